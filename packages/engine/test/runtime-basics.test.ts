import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { ConvexError } from "convex/values";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestEngine, type TestEngine } from "./support/test-engine";

const APP = fileURLToPath(new URL("fixtures/basic/convex", import.meta.url));
const ref = <K extends "query" | "mutation" | "action">(name: string) => makeFunctionReference<K>(name);

describe("runtime over ConvexHttpClient", () => {
  let running: TestEngine;
  let client: ConvexHttpClient;

  beforeAll(async () => {
    running = await startTestEngine({ appDir: APP });
    client = new ConvexHttpClient(running.engine.cloudUrl, { logger: false });
  });
  afterAll(async () => {
    await running?.close();
  });

  test("a thrown error rolls back every write of the mutation", async () => {
    const before = running.engine.store.lastCommitTs();
    await expect(client.mutation(ref<"mutation">("messages:failAfterWrite"), { body: "never" })).rejects.toThrow(
      /boom after write/,
    );
    expect(running.engine.store.lastCommitTs()).toBe(before);
    const list = await client.query(ref<"query">("messages:list"), {});
    expect(list.some((m: { body: string }) => m.body === "never")).toBe(false);
  });

  test("a failing call is logged with where it threw in the app's source (source-mapped)", async () => {
    await client.mutation(ref<"mutation">("messages:failAfterWrite"), { body: "trace" }).catch(() => undefined);
    const response = await fetch(`${running.engine.cloudUrl}/api/admin/calls`, {
      headers: { Authorization: `Convex ${running.engine.adminKey}` },
    });
    const { calls } = (await response.json()) as { calls: { path: string; errorFrames?: string[] }[] };
    const failed = calls.filter((c) => c.path === "messages:failAfterWrite").at(-1)!;
    expect(failed.errorFrames?.[0]).toMatch(/fixtures\/basic\/convex\/messages\.ts:43:\d+/);
  });

  test("a nested mutation that throws rolls back only its own writes (savepoint); the caller may catch", async () => {
    const result = await client.mutation(ref<"mutation">("messages:nestedRollback"), { body: "outer-kept" });
    expect(result).toMatch(/caught: .*boom after write/);
    const bodies = (await client.query(ref<"query">("messages:list"), {})).map((m: { body: string }) => m.body);
    expect(bodies).toContain("outer-kept");
    expect(bodies).not.toContain("outer-kept (inner)");
  });

  test("ConvexError data round-trips: to the client, and from a nested call to its caller", async () => {
    expect(await client.mutation(ref<"mutation">("messages:like"), { id: await someMessageId() })).toBe(1);
    const missing = await client
      .mutation(ref<"mutation">("messages:like"), { id: await deletedMessageId() })
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ConvexError);
    expect((missing as ConvexError<{ code: string }>).data).toEqual({ code: "NOT_FOUND", message: "no such message" });
    const nested = await client.mutation(ref<"mutation">("messages:convexErrorOuter"), {});
    expect(nested).toEqual({ rethrownData: { code: "INNER", n: 7n } });
  });

  test("arguments and return values are validated with Convex-like messages", async () => {
    await expect(client.mutation(ref<"mutation">("messages:send"), { author: "a" })).rejects.toThrow(
      /ArgumentValidationError: Object is missing the required field `body`/,
    );
    await expect(client.mutation(ref<"mutation">("messages:send"), { author: "a", body: "b", extra: 1 })).rejects.toThrow(
      /ArgumentValidationError/,
    );
    await expect(client.query(ref<"query">("messages:badReturn"), {})).rejects.toThrow(/ReturnsValidationError/);
  });

  test("internal functions are refused to clients, allowed to the admin key", async () => {
    await expect(client.mutation(ref<"mutation">("messages:internalOnly"), {})).rejects.toThrow(
      /Could not find public function for 'messages:internalOnly'/,
    );
    const admin = new ConvexHttpClient(running.engine.cloudUrl, { logger: false });
    (admin as unknown as { setAdminAuth(k: string): void }).setAdminAuth(running.engine.adminKey);
    expect(await admin.mutation(ref<"mutation">("messages:internalOnly"), {})).toBe("secret");
  });

  test("console output comes back as log lines with their level", async () => {
    const response = await fetch(`${running.engine.cloudUrl}/api/query`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ path: "messages:logs", args: [{}] }),
    });
    const body = (await response.json()) as { logLines: string[] };
    expect(body.logLines).toEqual(["[LOG] plain 1 { a: [ 1, 2 ] }", "[WARN] careful", "[ERROR] bad"]);
  });

  test("actions run mutations and queries through ctx and see their results", async () => {
    const result = await client.action(ref<"action">("messages:sendViaAction"), { body: "from action" });
    expect(result.count).toBeGreaterThanOrEqual(1);
    const list = await client.query(ref<"query">("messages:byAuthor"), { author: "action" });
    expect(list.map((m: { _id: string }) => m._id)).toContain(result.id);
  });

  async function someMessageId(): Promise<string> {
    return client.mutation(ref<"mutation">("messages:send"), { author: "ids", body: "x" });
  }
  async function deletedMessageId(): Promise<string> {
    // A well-formed id of the messages table that no document has.
    const id = await someMessageId();
    await running.engine.app.runtime.transact(() => void running.engine.store.delete(id));
    return id;
  }

  test("a mutation's insert is visible to a later query", async () => {
    const id = await client.mutation(ref<"mutation">("messages:send"), { author: "ada", body: "hello" });
    expect(typeof id).toBe("string");
    const list = await client.query(ref<"query">("messages:list"), {});
    expect(list.map((m: { body: string }) => m.body)).toContain("hello");
  });
});

describe("consistent queries (query_ts / query_at_ts)", () => {
  let running: TestEngine;
  let inline: TestEngine;
  beforeAll(async () => {
    [running, inline] = await Promise.all([startTestEngine({ appDir: APP, queryWorkers: 1 }), startTestEngine({ appDir: APP, queryWorkers: 0 })]);
  });
  afterAll(async () => Promise.all([running?.close(), inline?.close()]));

  const consistent = (client: ConvexHttpClient, author: string) =>
    (client as unknown as { consistentQuery(r: unknown, a: unknown): Promise<{ body: string }[]> }).consistentQuery(ref<"query">("messages:byAuthor"), { author });
  const queryTs = async (engine: TestEngine) =>
    ((await (await fetch(`${engine.engine.cloudUrl}/api/query_ts`, { method: "POST" })).json()) as { ts: string }).ts;
  const queryAtTs = (engine: TestEngine, author: string, ts: string) =>
    fetch(`${engine.engine.cloudUrl}/api/query_at_ts`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ path: "messages:byAuthor", args: [{ author }], ts }),
    });

  test("consistentQuery keeps reading the snapshot its client was handed, after later writes", async () => {
    const client = new ConvexHttpClient(running.engine.cloudUrl, { logger: false });
    await client.mutation(ref<"mutation">("messages:send"), { author: "c", body: "one" });
    expect((await consistent(client, "c")).map((m) => m.body)).toEqual(["one"]);
    // The official client asks /api/query_ts once and reuses that ts for every consistent query.
    await client.mutation(ref<"mutation">("messages:send"), { author: "c", body: "two" });
    await client.mutation(ref<"mutation">("messages:send"), { author: "e", body: "elsewhere" });
    expect((await consistent(client, "c")).map((m) => m.body)).toEqual(["one"]);
    expect(await consistent(client, "e")).toEqual([]);
    // A plain query sees the latest data.
    expect((await client.query(ref<"query">("messages:byAuthor"), { author: "c" })).map((m: { body: string }) => m.body)).toEqual(["one", "two"]);
  });

  test("a snapshot nobody holds is served only while no commit since wrote into what the query reads", async () => {
    // Without query workers no snapshot is pinned: an older ts is answered from the latest one when provably equal.
    const client = new ConvexHttpClient(inline.engine.cloudUrl, { logger: false });
    await client.mutation(ref<"mutation">("messages:send"), { author: "c", body: "one" });
    const ts = await queryTs(inline);
    await client.mutation(ref<"mutation">("messages:send"), { author: "d", body: "other author" });
    const same = await queryAtTs(inline, "c", ts);
    expect(same.status).toBe(200);
    expect(((await same.json()) as { value: { body: string }[] }).value.map((m) => m.body)).toEqual(["one"]);
    await client.mutation(ref<"mutation">("messages:send"), { author: "c", body: "two" });
    const stale = await queryAtTs(inline, "c", ts);
    expect(stale.status).toBe(409);
    expect(await stale.text()).toMatch(/changed since that ts/);
    // A ts from the future is refused too.
    const future = await queryAtTs(inline, "c", Buffer.from(new BigUint64Array([1n << 62n]).buffer).toString("base64"));
    expect(future.status).toBe(409);
  });
});
