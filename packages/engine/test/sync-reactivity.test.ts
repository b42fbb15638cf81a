import path from "node:path";
import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestEngine, type TestEngine } from "./support/test-engine";
import { liveQuery } from "./sync-support/live-query";
import { settledRuns } from "./sync-support/settled-runs";

/**
 * Reactive invalidation as official clients see it: a subscription re-runs
 * only when a commit wrote into what it read, equal subscriptions run once
 * and fan out, unchanged results are not re-sent, and a burst of commits is
 * answered by one update round. Run counts come from the engine's sync stats;
 * every wait is for an event (a value, a mutation, the end of a round).
 */

type Message = { _id: string; author: string; body: string; likes?: number };
const list = makeFunctionReference<"query", Record<string, never>, Message[]>("messages:list");
const byAuthor = makeFunctionReference<"query", { author: string }, Message[]>("messages:byAuthor");
const send = makeFunctionReference<"mutation", { author: string; body: string }, string>("messages:send");
const like = makeFunctionReference<"mutation", { id: string }, number>("messages:like");
const failAfterWrite = makeFunctionReference<"mutation", { body: string }, null>("messages:failAfterWrite");

const APP = path.resolve(__dirname, "fixtures/basic/convex");
let running: TestEngine;
const clients: ConvexClient[] = [];

beforeAll(async () => {
  running = await startTestEngine({ appDir: APP });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await running?.close();
});

function client(): ConvexClient {
  const c = new ConvexClient(running.engine.cloudUrl, { logger: false });
  clients.push(c);
  return c;
}

/** Runs of `path` so far, once every pending update round is done. */
const runsOf = (path: string) => settledRuns(running.engine, path);

describe("reactive invalidation", () => {
  test("a commit re-runs only the subscriptions whose read intervals it wrote into", async () => {
    const c = client();
    const alices = liveQuery(c, byAuthor, { author: "alice" });
    const bobs = liveQuery(c, byAuthor, { author: "bob" });
    await Promise.all([alices.until(() => true), bobs.until(() => true)]);
    const runsBefore = await runsOf("messages:byAuthor");
    const bobValues = bobs.values.length;

    await c.mutation(send, { author: "alice", body: "only alice's range changes" });
    expect(alices.latest().map((m) => m.body)).toContain("only alice's range changes");
    // Bob's subscription read the index range author == "bob": the insert fell outside it.
    expect(await runsOf("messages:byAuthor")).toBe(runsBefore + 1);
    expect(bobs.values.length).toBe(bobValues);
  });

  test("identical subscriptions run once per commit and every holder gets the result", async () => {
    const holders = [client(), client(), client()];
    const feeds = holders.map((c) => liveQuery(c, list, {}));
    await Promise.all(feeds.map((f) => f.until(() => true)));
    const runsBefore = await runsOf("messages:list");

    await holders[0]!.mutation(send, { author: "carol", body: "for everyone" });
    await Promise.all(feeds.map((f) => f.until((messages) => messages.some((m) => m.body === "for everyone"))));
    expect(await runsOf("messages:list")).toBe(runsBefore + 1);
  });

  test("a failed mutation commits nothing and re-runs nothing", async () => {
    const c = client();
    const feed = liveQuery(c, list, {});
    await feed.until(() => true);
    const runsBefore = await runsOf("messages:list");
    await expect(c.mutation(failAfterWrite, { body: "never visible" })).rejects.toThrow(/boom after write/);
    expect(await runsOf("messages:list")).toBe(runsBefore);
    expect(feed.latest().some((m) => m.body === "never visible")).toBe(false);
  });

  test("a burst of commits is answered by one update round", async () => {
    const c = client();
    const feed = liveQuery(c, list, {});
    await feed.until(() => true);
    const http = new ConvexHttpClient(running.engine.cloudUrl, { logger: false });
    const id = await http.mutation(send, { author: "dave", body: "liked a lot" });
    await feed.until((messages) => messages.some((m) => m._id === id));
    const runsBefore = await runsOf("messages:list");
    const valuesBefore = feed.values.length;

    // Hold the executor while twenty likes are submitted (straight to the runtime, so they are
    // all queued before it is free again), then let them all commit.
    const runtime = running.engine.app.runtime;
    let release!: () => void;
    let held!: Promise<void>;
    await new Promise<void>((holding) => {
      held = runtime.lock.run(
        () =>
          new Promise<void>((resolve) => {
            release = resolve;
            holding();
          }),
      );
    });
    const likes = Array.from({ length: 20 }, () =>
      runtime.call({ path: "messages:like", args: { id }, identity: null, allowInternal: false, origin: "client" }),
    );
    release();
    await held;
    const outcomes = await Promise.all(likes);
    expect(outcomes.map((o) => (o.status === "success" ? o.value : o.errorMessage)).sort()).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1).sort(),
    );

    const final = await feed.until((messages) => messages.find((m) => m._id === id)?.likes === 20);
    expect(final.find((m) => m._id === id)?.likes).toBe(20);
    // Twenty commits, one re-run, one update to the client.
    expect(await runsOf("messages:list")).toBe(runsBefore + 1);
    expect(feed.values.length).toBe(valuesBefore + 1);
  });
});
