import { makeFunctionReference } from "convex/server";
import { ConvexHttpClient } from "convex/browser";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import type { CallOutcome } from "../src/runtime/function-outcome";
import { QueryCache } from "../src/runtime/query-cache";
import type { CallRequest } from "../src/runtime/runtime";
import type { Identity } from "../src/runtime/services";
import { indexKey, successor } from "../src/values/index-key-codec";
import { startTestEngine, type TestEngine } from "./support/test-engine";

const APP = fileURLToPath(new URL("fixtures/basic/convex", import.meta.url));

/**
 * The query cache serves repeated one-off queries (same function, arguments,
 * identity) without running them, and must never serve a result that a
 * committed write has made stale. A served result is the very outcome the
 * cache kept (the same object); a run makes a new one. Both executors: queries
 * on this thread, and on a worker thread reading at its own snapshot.
 */
describe.each([0, 1])("query cache on the engine (%i query workers)", (queryWorkers) => {
  let running: TestEngine;
  /** The outcome each (path, args) returned last. */
  const lastOutcome = new Map<string, CallOutcome>();
  let served = false;
  beforeAll(async () => {
    running = await startTestEngine({ appDir: APP, queryWorkers });
  });
  afterAll(async () => running?.close());
  beforeEach(async () => {
    // Each test starts from an empty table and an empty cache.
    await running.engine.app.runtime.transact(() => {
      for (const row of running.engine.store.scan("messages.by_creation_time", { lo: new Uint8Array(0), hi: null }, "asc", 10_000)) {
        running.engine.store.delete(JSON.parse(row.text)._id);
      }
    });
    running.engine.app.runtime.clearQueryCache();
  });

  const call = async (path: string, args: CallRequest["args"], kind: "query" | "mutation" = "query", identity: Identity | null = null) => {
    const outcome: CallOutcome = await running.engine.app.runtime.call({ path, args, identity, allowInternal: false, expectKind: kind, origin: "client" });
    const key = `${path}\u0000${JSON.stringify(args)}\u0000${identity?.subject ?? "-"}`;
    served = lastOutcome.get(key) === outcome;
    lastOutcome.set(key, outcome);
    if (outcome.status !== "success") throw new Error(outcome.errorMessage);
    return outcome.value;
  };
  /** Runs `work` and tells whether the function ran or its cached outcome was served. */
  const ranOrServed = async <T>(work: () => Promise<T>): Promise<{ value: T; ran: boolean }> => {
    const value = await work();
    return { value, ran: !served };
  };

  test("a repeated query is served without running; a write into what it read makes it run again", async () => {
    await call("messages:send", { author: "ada", body: "one" }, "mutation");
    expect((await ranOrServed(() => call("messages:byAuthor", { author: "ada" }))).ran).toBe(true);
    const again = await ranOrServed(() => call("messages:byAuthor", { author: "ada" }));
    expect(again).toMatchObject({ ran: false, value: [{ body: "one" }] });
    // Another author's message is outside the scanned range: still served.
    await call("messages:send", { author: "bob", body: "elsewhere" }, "mutation");
    expect(await ranOrServed(() => call("messages:byAuthor", { author: "ada" }))).toMatchObject({ ran: false });
    // Ada's new message is inside it: the next call runs and sees it.
    await call("messages:send", { author: "ada", body: "two" }, "mutation");
    const fresh = await ranOrServed(() => call("messages:byAuthor", { author: "ada" }));
    expect(fresh.ran).toBe(true);
    expect((fresh.value as { body: string }[]).map((m) => m.body)).toEqual(["one", "two"]);
  });

  test("a document fetched by id: its patch and its deletion reach the next call", async () => {
    const id = (await call("messages:send", { author: "ada", body: "hi" }, "mutation")) as string;
    await call("messages:get", { id });
    expect(await ranOrServed(() => call("messages:get", { id }))).toMatchObject({ ran: false });
    await call("messages:like", { id }, "mutation");
    expect(await ranOrServed(() => call("messages:get", { id }))).toMatchObject({ ran: true, value: { likes: 1 } });
    await running.engine.app.runtime.transact(() => void running.engine.store.delete(id));
    expect(await call("messages:get", { id })).toBeNull();
  });

  test("different arguments and different identities are different results", async () => {
    const ada: Identity = { subject: "ada", issuer: "https://issuer", tokenIdentifier: "https://issuer|ada" };
    const bob: Identity = { subject: "bob", issuer: "https://issuer", tokenIdentifier: "https://issuer|bob" };
    expect(await call("messages:whoAmI", {}, "query", ada)).toMatchObject({ subject: "ada" });
    expect(await call("messages:whoAmI", {}, "query", bob)).toMatchObject({ subject: "bob" });
    expect(await call("messages:whoAmI", {}, "query", null)).toBeNull();
    expect(await call("messages:whoAmI", {}, "query", ada)).toMatchObject({ subject: "ada" });
  });

  test("failures are not cached", async () => {
    const first = await running.engine.app.runtime.call({ path: "messages:badReturn", args: {}, identity: null, allowInternal: false, origin: "client" });
    const second = await running.engine.app.runtime.call({ path: "messages:badReturn", args: {}, identity: null, allowInternal: false, origin: "client" });
    expect([first.status, second.status]).toEqual(["error", "error"]);
  });

  test("new code drops every cached result", async () => {
    await call("messages:list", {});
    expect(await ranOrServed(() => call("messages:list", {}))).toMatchObject({ ran: false });
    await running.engine.reload();
    expect(await ranOrServed(() => call("messages:list", {}))).toMatchObject({ ran: true });
  });

  test("over HTTP: a client's own mutation is visible to its next query", async () => {
    const client = new ConvexHttpClient(running.engine.cloudUrl, { logger: false });
    const list = makeFunctionReference<"query">("messages:list");
    const send = makeFunctionReference<"mutation">("messages:send");
    for (let i = 0; i < 5; i++) {
      await client.query(list, {});
      await client.mutation(send, { author: "http", body: `m${i}` });
      expect(((await client.query(list, {})) as unknown[]).length).toBe(i + 1);
    }
  });
});

describe("query cache bookkeeping", () => {
  const outcome = (text: string): Extract<CallOutcome, { status: "success" }> => ({ status: "success", value: text, valueText: JSON.stringify(text), logLines: [] });
  const userPrefix = (user: string) => indexKey([user]);
  const point = (user: string, post: string) => {
    const lo = indexKey([user, post]);
    return { index: "likes.by_user_and_post", lo, hi: successor(lo) };
  };
  const write = (user: string, post: string) => ({
    id: "x",
    table: "likes",
    oldText: null,
    newText: "{}",
    keys: [{ index: "likes.by_user_and_post", oldKey: null, newKey: Buffer.concat([indexKey([user, post]), indexKey([1, "x"])]) }],
  });

  test("a write drops exactly the results whose intervals hold its key, filed or wide", () => {
    let now = 0;
    const cache = new QueryCache({ maxEntries: 100, maxBytes: 1 << 20, maxAgeMs: 1_000, now: () => now });
    const alice = "a".repeat(32);
    const bob = "b".repeat(32);
    cache.set("alice-likes-p1", outcome("1"), { intervals: [point(alice, "p1")], ids: [] });
    cache.set("alice-likes-p2", outcome("2"), { intervals: [point(alice, "p2")], ids: [] });
    cache.set("bob-likes-p1", outcome("3"), { intervals: [point(bob, "p1")], ids: [] });
    const all = userPrefix("");
    cache.set("everything", outcome("4"), { intervals: [{ index: "likes.by_user_and_post", lo: all.subarray(0, 0), hi: null }], ids: [] });
    cache.set("by id", outcome("5"), { intervals: [], ids: ["x"] });
    cache.invalidate([{ ...write(alice, "p1"), id: "y" }]);
    expect(["alice-likes-p1", "alice-likes-p2", "bob-likes-p1", "everything", "by id"].map((k) => cache.get(k) !== null)).toEqual([
      false,
      true,
      true,
      false,
      true,
    ]);
    cache.invalidate([write(bob, "p9")]);
    expect(["alice-likes-p2", "bob-likes-p1", "by id"].map((k) => cache.get(k) !== null)).toEqual([true, true, false]);
    // Age: nothing is served past maxAgeMs.
    now = 1_001;
    expect(cache.get("alice-likes-p2")).toBeNull();
    expect(cache.size).toBe(1);
  });

  test("bounded by count and bytes, least recently used first", () => {
    const cache = new QueryCache({ maxEntries: 3, maxBytes: 1 << 20, maxAgeMs: 1_000, now: () => 0 });
    for (const key of ["a", "b", "c"]) cache.set(key, outcome(key), { intervals: [], ids: [] });
    cache.get("a");
    cache.set("d", outcome("d"), { intervals: [], ids: [] });
    expect(["a", "b", "c", "d"].map((k) => cache.get(k) !== null)).toEqual([true, false, true, true]);
    // ~220 bytes each (3 × text and key): four fit in 900, a fifth pushes the oldest out.
    const small = new QueryCache({ maxEntries: 100, maxBytes: 900, maxAgeMs: 1_000, now: () => 0 });
    for (const key of ["big1", "big2", "big3", "big4", "big5"]) small.set(key, outcome(key[3]!.repeat(70)), { intervals: [], ids: [] });
    expect(["big1", "big2", "big5"].map((k) => small.get(k) !== null)).toEqual([false, true, true]);
    // A result bigger than a quarter of the budget is not kept at all.
    small.set("huge", outcome("h".repeat(80)), { intervals: [], ids: [] });
    expect(small.get("huge")).toBeNull();
  });
});
