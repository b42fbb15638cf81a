import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestEngine, type TestEngine } from "../support/test-engine";

const APP = fileURLToPath(new URL("fixtures/runaway/convex", import.meta.url));
const forever = makeFunctionReference<"query">("spin:forever");
const count = makeFunctionReference<"query">("spin:count");
const mark = makeFunctionReference<"mutation">("spin:mark");

/**
 * Issue 10 item 7: a CPU-bound function is stopped at its time limit while the engine
 * keeps answering everybody else, and nothing it did survives.
 */
describe("runaway functions", () => {
  let running: TestEngine;
  let client: ConvexHttpClient;
  beforeAll(async () => {
    running = await startTestEngine({ appDir: APP, queryWorkers: 2, transactionTimeoutMs: 1_000 });
    client = new ConvexHttpClient(running.engine.cloudUrl, { logger: false });
  });
  afterAll(async () => running?.close());

  test("an endless query is stopped at its limit; other queries and mutations are answered meanwhile", async () => {
    const events: string[] = [];
    const runaway = client.query(forever, {}).then(
      () => events.push("runaway returned"),
      (e: Error) => events.push(`runaway failed: ${e.message}`),
    );
    // While it spins on one worker: writes commit and reads are answered on the other.
    await client.mutation(mark, { label: "during" });
    expect(await client.query(count, {})).toBe(1);
    events.push("others answered");
    await runaway;
    expect(events[0]).toBe("others answered");
    expect(events[1]).toMatch(/^runaway failed: .*spin:forever ran longer than 1 s and was stopped/);
    // The stopped worker is replaced: the next queries run as before.
    await client.mutation(mark, { label: "after" });
    expect(await Promise.all([client.query(count, {}), client.query(count, {}), client.query(count, {})])).toEqual([2, 2, 2]);
  });

  test("several runaways at once do not stall the engine", async () => {
    const runaways = [1, 2, 3].map(() => client.query(forever, {}).then(() => "returned", (e: Error) => e.message));
    // Both workers are taken (and one runaway waits): the next query waits for a worker,
    // but it is answered once the limit frees them, and so is everyone after it.
    expect(await client.query(count, {})).toBe(2);
    for (const outcome of await Promise.all(runaways)) expect(outcome).toMatch(/ran longer than 1 s and was stopped/);
    expect(await client.query(count, {})).toBe(2);
  });
});
