import path from "node:path";
import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestEngine, type TestEngine } from "./support/test-engine";

/**
 * A query worker that always has a next job waiting keeps its read transaction between
 * runs and reads at it again while nobody committed (`Store.pauseRead`). A client that got
 * a write's answer must still see that write in its next query, whoever committed it (the
 * writer thread, or the main thread's connection for the dashboard's writes), and a table
 * that write created (a new catalog). The engine runs one query worker with the query
 * cache off; a flood of other queries keeps that worker's queue from emptying, so most
 * runs here follow another with no pause between (a schema push is not tested here: the
 * main thread evaluates the new code first, and meanwhile the worker runs dry;
 * `store-paused-reads.test.ts` covers it on the store).
 */

type Item = { _id: string; owner: string; n: number };
const list = makeFunctionReference<"query", { owner: string }, Item[]>("items:list");
const add = makeFunctionReference<"mutation", { owner: string; n: number }, string>("items:add");
const setN = makeFunctionReference<"mutation", { id: string; n: number }, null>("items:setN");
const insertInto = makeFunctionReference<"mutation", { table: string; n: number }, string>("tables:insertInto");
const readFrom = makeFunctionReference<"query", { table: string }, number[]>("tables:readFrom");

const APP = path.resolve(__dirname, "fixtures/read-caches/convex");
const ROUNDS = 40;
let running: TestEngine;
let http: ConvexHttpClient;

beforeAll(async () => {
  running = await startTestEngine({ appDir: APP, queryCache: false });
  http = new ConvexHttpClient(running.engine.cloudUrl, { logger: false });
});
afterAll(async () => {
  await running?.close();
});

/** Keeps `lanes` queries in flight (more than the worker takes at once) until the returned stop is called. */
function flood(lanes = 6): () => Promise<void> {
  let stopped = false;
  const client = new ConvexHttpClient(running.engine.cloudUrl, { logger: false });
  const done = Promise.all(
    Array.from({ length: lanes }, async () => {
      while (!stopped) await client.query(list, { owner: "flood" });
    }),
  );
  return async () => {
    stopped = true;
    await done;
  };
}

/** A dashboard write: committed on the main thread's connection (`runtime.transact`), not the writer's. */
async function adminPatch(id: string, n: number): Promise<void> {
  const response = await fetch(`${running.engine.cloudUrl}/api/admin/documents/replace`, {
    method: "POST",
    headers: { Authorization: `Convex ${running.engine.adminKey}` },
    body: JSON.stringify({ id, fields: { owner: "dash", n, tags: ["a"], meta: { seen: false } } }),
  });
  expect(response.status).toBe(200);
}

describe("query workers reading at a kept snapshot", () => {
  test("each query sees the mutation answered before it, while the worker never runs dry", async () => {
    await http.mutation(add, { owner: "flood", n: 0 });
    const stop = flood();
    try {
      const id = await http.mutation(add, { owner: "ann", n: 0 });
      for (let n = 1; n <= ROUNDS; n++) {
        await http.mutation(setN, { id, n });
        const [item] = await http.query(list, { owner: "ann" });
        expect(item?.n, `round ${n}`).toBe(n);
      }
    } finally {
      await stop();
    }
  });

  test("each query sees the dashboard write answered before it (a commit of the main thread's connection)", async () => {
    const id = await http.mutation(add, { owner: "dash", n: 0 });
    const stop = flood();
    try {
      for (let n = 1; n <= ROUNDS; n++) {
        await adminPatch(id, n);
        const [item] = await http.query(list, { owner: "dash" });
        expect(item?.n, `round ${n}`).toBe(n);
      }
    } finally {
      await stop();
    }
  });

  test("each query sees the table the mutation answered before it created (a new catalog)", async () => {
    const stop = flood();
    try {
      for (let n = 1; n <= ROUNDS; n++) {
        await http.mutation(insertInto, { table: `made_${n}`, n });
        expect(await http.query(readFrom, { table: `made_${n}` }), `round ${n}`).toEqual([n]);
      }
    } finally {
      await stop();
    }
  });
});
