import path from "node:path";
import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestEngine, type TestEngine } from "./support/test-engine";

/**
 * What a query worker shares between runs — parsed documents (`parsed-documents.ts`) and
 * index scans (`scan-cache.ts`) — must never show: a run that changes the objects it got
 * leaves the next run's untouched, and every answer reflects the commits before it, for
 * one-off queries and subscriptions alike. The engine runs one query worker, so every
 * query here reads through the same caches.
 */

type Item = { _id: string; _creationTime: number; owner: string; n: number; tags: string[]; meta: { seen: boolean } };
const list = makeFunctionReference<"query", { owner: string }, Item[]>("items:list");
const tamper = makeFunctionReference<"query", { owner: string }, number>("items:tamper");
const add = makeFunctionReference<"mutation", { owner: string; n: number }, string>("items:add");
const setN = makeFunctionReference<"mutation", { id: string; n: number }, null>("items:setN");
const move = makeFunctionReference<"mutation", { id: string; owner: string }, null>("items:move");
const note = makeFunctionReference<"mutation", { body: string }, string>("items:note");
const changedAfterReturn = makeFunctionReference<"query", { ticks: number }, { n: number; tags: string[] }>("items:changedAfterReturn");

const APP = path.resolve(__dirname, "fixtures/read-caches/convex");
let running: TestEngine;
let http: ConvexHttpClient;

beforeAll(async () => {
  // The query cache off: every query below runs on the worker instead of being answered from a cached result.
  running = await startTestEngine({ appDir: APP, queryCache: false });
  http = new ConvexHttpClient(running.engine.cloudUrl, { logger: false });
});
afterAll(async () => {
  await running?.close();
});

describe("query worker caches", () => {
  test("a result is checked against its validator as it is sent: a change a stray promise makes later never reaches the client", async () => {
    // Whichever microtask the change lands on, before or after the result is encoded.
    const outcomes = new Set<string>();
    for (let ticks = 0; ticks <= 12; ticks++) {
      const outcome = await http.query(changedAfterReturn, { ticks }).then(
        (value) => JSON.stringify(value),
        (e: Error) => (/ReturnsValidationError/.test(e.message) ? "refused" : e.message),
      );
      outcomes.add(outcome);
    }
    expect([...outcomes].every((o) => o === '{"n":1,"tags":["a"]}' || o === "refused")).toBe(true);
    expect(outcomes).toContain('{"n":1,"tags":["a"]}');
  });

  test("a query that changes the documents it read leaves every later run's documents intact", async () => {
    for (let n = 0; n < 3; n++) await http.mutation(add, { owner: "ann", n });
    const before = await http.query(list, { owner: "ann" });
    expect(before.map((d) => d.n)).toEqual([0, 1, 2]);
    // Same snapshot, same worker: the tampering run reads the documents the next ones are given.
    expect(await http.query(tamper, { owner: "ann" })).toBe(3);
    expect(await http.query(tamper, { owner: "ann" })).toBe(3);
    const after = await http.query(list, { owner: "ann" });
    expect(after).toEqual(before);
    expect(after.every((d) => d.owner === "ann" && d.tags.length === 1 && d.meta.seen === false)).toBe(true);
  });

  test("one-off queries see each commit before them: inserts, patches and moves between owners", async () => {
    const ids: string[] = [];
    for (let n = 0; n < 5; n++) {
      ids.push(await http.mutation(add, { owner: "bob", n }));
      // Read right after each write: a cached scan of the owner's items would miss it.
      expect((await http.query(list, { owner: "bob" })).map((d) => d.n)).toEqual([...Array(n + 1).keys()]);
    }
    await http.mutation(setN, { id: ids[2]!, n: 42 });
    expect((await http.query(list, { owner: "bob" })).map((d) => d.n)).toEqual([0, 1, 42, 3, 4]);
    // A commit into another table keeps the scans of this one, and they are still right.
    await http.mutation(note, { body: "elsewhere" });
    expect((await http.query(list, { owner: "bob" })).map((d) => d.n)).toEqual([0, 1, 42, 3, 4]);
    await http.mutation(move, { id: ids[0]!, owner: "cat" });
    expect((await http.query(list, { owner: "bob" })).map((d) => d.n)).toEqual([1, 42, 3, 4]);
    expect((await http.query(list, { owner: "cat" })).map((d) => d._id)).toEqual([ids[0]]);
  });

  test("a subscription gets every change to what it read, also after runs of other subscribers", async () => {
    const a = new ConvexClient(running.engine.cloudUrl, { logger: false });
    const b = new ConvexClient(running.engine.cloudUrl, { logger: false });
    try {
      // Resolves when the subscription's latest value is `want` (checked on every update).
      const watch = (client: ConvexClient, owner: string) => {
        let latest: string | null = null;
        const waiters: { want: string; resolve: () => void }[] = [];
        client.onUpdate(list, { owner }, (items) => {
          latest = JSON.stringify(items.map((d) => d.n));
          for (const w of waiters.splice(0)) if (w.want === latest) w.resolve(); else waiters.push(w);
        });
        return (want: number[]) =>
          new Promise<void>((resolve) => {
            if (latest === JSON.stringify(want)) resolve();
            else waiters.push({ want: JSON.stringify(want), resolve });
          });
      };
      const seenA = watch(a, "dan");
      const seenB = watch(b, "eve");
      const waitFor = (seen: (want: number[]) => Promise<void>, want: number[]) => seen(want);
      await waitFor(seenA, []);
      await waitFor(seenB, []);
      const id = await a.mutation(add, { owner: "dan", n: 1 });
      await waitFor(seenA, [1]);
      await b.mutation(add, { owner: "eve", n: 7 });
      await waitFor(seenB, [7]);
      await a.mutation(setN, { id, n: 2 });
      await waitFor(seenA, [2]);
      await a.mutation(move, { id, owner: "eve" });
      await waitFor(seenA, []);
      // Index order: owner, then creation time; the moved item is the older one.
      await waitFor(seenB, [2, 7]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
