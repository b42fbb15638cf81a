import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { afterEach, describe, expect, test } from "vitest";
import type { SyncServerOptions } from "../src/sync/sync-server";
import { startTestEngine, type TestEngine } from "./support/test-engine";
import { liveQuery } from "./sync-support/live-query";

/**
 * Exactly-once mutations (convex-interface.md §5.5): the official client
 * re-sends every mutation it has no Transition for after a reconnect, with
 * the same request id, so the engine must answer a mutation that already
 * committed with its stored result instead of running it again — also when
 * the engine itself was restarted in between.
 */

type Message = { _id: string; author: string; body: string };
const list = makeFunctionReference<"query", Record<string, never>, Message[]>("messages:list");
const send = makeFunctionReference<"mutation", { author: string; body: string }, string>("messages:send");

const APP = path.resolve(__dirname, "fixtures/basic/convex");
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/**
 * A `beforeSend` hook that kills the connection instead of sending the first
 * MutationResponse: the mutation has committed, the client never hears it.
 */
function cutFirstMutationResponse(): { options: SyncServerOptions; cut: Promise<void> } {
  let done = false;
  let signal!: () => void;
  const cut = new Promise<void>((resolve) => (signal = resolve));
  return {
    cut,
    options: {
      beforeSend(frame, connection) {
        if (done || !String(frame).startsWith('{"type":"MutationResponse"')) return;
        done = true;
        connection.terminate();
        signal();
      },
    },
  };
}

async function bodiesIn(cloudUrl: string): Promise<string[]> {
  const http = new ConvexHttpClient(cloudUrl, { logger: false });
  return (await http.query(list, {})).map((m) => m.body);
}

describe("exactly-once mutations", () => {
  test("a connection cut after the commit, before the response: the retry returns the stored result", async () => {
    const { options, cut } = cutFirstMutationResponse();
    const running = await startTestEngine({ appDir: APP, sync: options });
    cleanup.push(() => running.close());
    const client = new ConvexClient(running.engine.cloudUrl, { logger: false });
    cleanup.push(() => client.close());
    const feed = liveQuery(client, list, {});
    await feed.until(() => true);

    const sent = client.mutation(send, { author: "once", body: "exactly once" });
    await cut;
    // The client reconnects, re-sends the mutation with its request id and gets the original id back.
    const id = await sent;
    expect(feed.latest().filter((m) => m.body === "exactly once").map((m) => m._id)).toEqual([id]);
    expect((await bodiesIn(running.engine.cloudUrl)).filter((b) => b === "exactly once")).toHaveLength(1);
  });

  test("the engine restarts on the same data folder in between: the retry still returns the stored result", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "engine-sync-restart-"));
    cleanup.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const { options, cut } = cutFirstMutationResponse();
    let first: TestEngine | null = await startTestEngine({ appDir: APP, dataDir, sync: options });
    const port = Number(new URL(first.engine.cloudUrl).port);
    cleanup.push(async () => void (await first?.close()));
    const client = new ConvexClient(first.engine.cloudUrl, { logger: false });
    cleanup.push(() => client.close());
    const feed = liveQuery(client, list, {});
    await feed.until(() => true);

    const sent = client.mutation(send, { author: "restart", body: "survives a restart" });
    await cut;
    await first.close();
    first = null;
    // Same folder, same port: the client's reconnect loop finds the new engine.
    const second = await startTestEngine({ appDir: APP, dataDir, port });
    cleanup.push(() => second.close());

    const id = await sent;
    await feed.until((messages) => messages.some((m) => m._id === id));
    expect(feed.latest().filter((m) => m.body === "survives a restart")).toHaveLength(1);
    expect((await bodiesIn(second.engine.cloudUrl)).filter((b) => b === "survives a restart")).toHaveLength(1);
  });
});
