import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { strToU8, zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import WebSocket from "ws";
import { encodeDocumentId } from "../src/values/document-id";
import { startTestEngine, type TestEngine } from "./support/test-engine";

const APP = fileURLToPath(new URL("fixtures/limits-app/convex", import.meta.url));
const store = makeFunctionReference<"mutation", { value: unknown }, string>("things:store");
const storeWide = makeFunctionReference<"mutation", { fields: number }, string>("things:storeWide");
const patchValue = makeFunctionReference<"mutation", { id: string; value: unknown }, null>("things:patchValue");
const storeMany = makeFunctionReference<"mutation", { count: number; bytes: number }, number>("things:storeMany");
const scheduleMany = makeFunctionReference<"mutation", { count: number }, number>("things:scheduleMany");
const getMany = makeFunctionReference<"query", { id: string; times: number }, number>("things:getMany");
const echo = makeFunctionReference<"query", { value: unknown }, unknown>("things:echo");
const big = makeFunctionReference<"query", { bytes: number }, string>("things:big");
const deep = makeFunctionReference<"query", { levels: number }, unknown>("things:deep");
const count = makeFunctionReference<"query", Record<string, never>, number>("things:count");
const countTaken = makeFunctionReference<"query", Record<string, never>, number>("things:countTaken");

const MiB = 1 << 20;

/** Arrays nested `levels` deep around `leaf`, built without recursion. */
function nested(levels: number, leaf: unknown = 0): unknown {
  let value = leaf;
  for (let i = 0; i < levels; i++) value = [value];
  return value;
}

/** JSON text of arrays nested `levels` deep (too deep for any recursive encoder). */
const deepJson = (levels: number) => "[".repeat(levels) + "]".repeat(levels);

/**
 * The attack table, part three: values beyond Convex's limits (docs:
 * production/state/limits). Each is refused with Convex's message and
 * changes nothing; data that passes here also fits in Convex's cloud.
 */
describe("attack table: Convex's value and transaction limits", () => {
  let running: TestEngine;
  let client: ConvexHttpClient;
  let url: string;

  beforeAll(async () => {
    running = await startTestEngine({ appDir: APP });
    url = running.engine.cloudUrl;
    client = new ConvexHttpClient(url, { logger: false });
  });
  afterAll(async () => running?.close());

  /** Runs an attack that must fail; asserts nothing was committed and returns the error message. */
  async function refused(attack: () => Promise<unknown>): Promise<string> {
    const before = running.engine.store.lastCommitTs();
    const error = await attack().then(
      () => null,
      (e: Error) => e,
    );
    expect(error, "the attack succeeded").not.toBeNull();
    expect(running.engine.store.lastCommitTs(), "the attack committed a write").toBe(before);
    return error!.message;
  }

  test("a document over 1 MiB is refused; one just under fits", async () => {
    const message = await refused(() => client.mutation(store, { value: "x".repeat(MiB) }));
    // Sizes print as the backend prints them: 1,048,650 bytes is "1 MiB" there too.
    expect(message).toMatch("Value is too large (1 MiB > maximum size 1 MiB)");
    await client.mutation(store, { value: "x".repeat(MiB - 200) });
  });

  test("an array of 8,193 items and an object of 1,025 fields are refused", async () => {
    expect(await refused(() => client.mutation(store, { value: new Array(8193).fill(1) }))).toMatch(
      "Array length is too long (8193 > maximum length 8192)",
    );
    expect(await refused(() => client.mutation(storeWide, { fields: 1024 }))).toMatch(
      "Object has too many fields (1025 > maximum number 1024)",
    );
  });

  test("a document nested deeper than 16 levels is refused on insert and on patch; 16 levels fit", async () => {
    // The document is level 1, so its `value` may hold 15 more.
    const id = await client.mutation(store, { value: nested(15) });
    expect(await refused(() => client.mutation(store, { value: nested(16) }))).toMatch(
      "Document is too nested (nested 17 levels deep > maximum nesting 16)",
    );
    expect(await refused(() => client.mutation(patchValue, { id, value: nested(16) }))).toMatch(
      "Document is too nested (nested 17 levels deep > maximum nesting 16)",
    );
  });

  test("arguments over 16 MiB are refused with Convex's message", async () => {
    expect(await refused(() => client.query(echo, { value: "x".repeat(17 * MiB) }))).toMatch(
      /Arguments for things:echo are too large \(actual: 17 MiB, limit: 16 MiB\)/,
    );
  });

  test("a return value over 16 MiB, or nested deeper than 64, is refused", async () => {
    expect(await refused(() => client.query(big, { bytes: 17 * MiB }))).toMatch(
      /Function things:big return value is too large \(actual: 17 MiB, limit: 16 MiB\)/,
    );
    expect(await client.query(deep, { levels: 64 })).toEqual(nested(64, 1));
    expect(await refused(() => client.query(deep, { levels: 65 }))).toMatch(
      "Value is too nested (nested 65 levels deep > maximum nesting 64)",
    );
  });

  test("arguments nested 20,000 levels deep over HTTP get a 400 at once, and the engine serves on", async () => {
    const response = await fetch(`${url}/api/query`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: `{"path":"things:echo","args":[{"value":${deepJson(20_000)}}]}`,
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: "TooNestedError" });
    expect(await client.query(count, {})).toBeGreaterThanOrEqual(0);
  });

  test("a subscription with arguments nested 20,000 deep closes that socket only; other users keep their updates", async () => {
    const bystander = new ConvexClient(url, { logger: false });
    try {
      const seen: number[] = [];
      bystander.onUpdate(count, {}, (n) => seen.push(n));
      await expect.poll(() => seen.length).toBeGreaterThan(0);

      const attacker = new WebSocket(`${url.replace(/^http/, "ws")}/api/1.48.0/sync`);
      const closed = new Promise<number>((resolve) => attacker.on("close", (code) => resolve(code)));
      await new Promise((resolve) => attacker.on("open", resolve));
      attacker.send(JSON.stringify({ type: "Connect", sessionId: randomUUID(), connectionCount: 0, lastCloseReason: null, clientTs: Date.now() }));
      attacker.send(
        `{"type":"ModifyQuerySet","baseVersion":0,"newVersion":1,"modifications":[{"type":"Add","queryId":0,"udfPath":"things:echo","args":[{"value":${deepJson(20_000)}}]}]}`,
      );
      expect(await closed).not.toBe(1000);

      const before = seen.at(-1)!;
      await client.mutation(store, { value: "after the attack" });
      await expect.poll(() => seen.at(-1)).toBe(before + 1);
    } finally {
      await bystander.close();
    }
  });

  test("a string with an unpaired surrogate is refused", async () => {
    const response = await fetch(`${url}/api/mutation`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"path":"things:store","args":[{"value":"half a pair \\ud800"}]}',
    });
    expect(((await response.json()) as { errorMessage: string }).errorMessage).toMatch(/unpaired surrogate/);
  });

  test("more than 16,000 writes, or 16 MiB written, in one mutation are refused and roll back", async () => {
    expect(await refused(() => client.mutation(storeMany, { count: 16_001, bytes: 1 }))).toMatch(
      "Too many writes in a single function execution (limit: 16000)",
    );
    expect(await refused(() => client.mutation(storeMany, { count: 17, bytes: MiB - 200 }))).toMatch(
      "Too many bytes written in a single function execution (limit: 16 MiB)",
    );
  });

  test("more than 4,096 reads, or 16 MiB read, in one query are refused", async () => {
    const id = await client.mutation(store, { value: "read me" });
    expect(await client.query(getMany, { id, times: 4095 })).toBe(4095);
    expect(await refused(() => client.query(getMany, { id, times: 4097 }))).toMatch(
      "Too many reads in a single function execution (limit: 4096). Consider using smaller limits",
    );
    for (let i = 0; i < 17; i++) await client.mutation(store, { value: "y".repeat(MiB - 200) });
    const message = await refused(() => client.query(count, {}));
    expect(message).toMatch(/Too many bytes read in a single function execution \(limit: 16777216 bytes\)/);
    // take(n) reads in one syscall on the query workers; its failure reads as collect()'s.
    expect(await refused(() => client.query(countTaken, {}))).toBe(message);
  });

  test("more than 1,000 functions scheduled by one mutation are refused", async () => {
    expect(await refused(() => client.mutation(scheduleMany, { count: 1001 }))).toMatch(
      "Too many functions scheduled by this mutation (limit: 1000)",
    );
  });

  test("an import with a document nested deeper than 16 levels is refused and imports nothing", async () => {
    const id = encodeDocumentId(running.engine.store.tableNumber("things")!, new Uint8Array(16).fill(9));
    const line = (value: string) => `{"_id":"${id}","_creationTime":1700000000000.0,"value":${value}}\n`;
    const zip = (value: string) =>
      zipSync({
        "_tables/documents.jsonl": strToU8(`{"name":"things","id":${running.engine.store.tableNumber("things")}}\n`),
        "things/documents.jsonl": strToU8(line(value)),
        "things/generated_schema.jsonl": strToU8('"uniform"\n'),
      });
    const post = (body: Uint8Array) =>
      fetch(`${url}/api/admin/import?mode=append`, {
        method: "POST",
        headers: { Authorization: `Convex ${running.engine.adminKey}`, "Content-Type": "application/zip" },
        body: body as unknown as BodyInit,
      });
    const before = running.engine.store.lastCommitTs();
    const tooDeep = await post(zip(deepJson(16)));
    expect(tooDeep.status).toBe(400);
    expect(await tooDeep.text()).toMatch(/Document is too nested \(nested 17 levels deep > maximum nesting 16\)/);
    const wayTooDeep = await post(zip(deepJson(20_000)));
    expect(wayTooDeep.status).toBe(400);
    expect(running.engine.store.lastCommitTs()).toBe(before);
  });
});
