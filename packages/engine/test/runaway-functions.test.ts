import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { spawnEngine } from "./support/engine-process";
import { eventually } from "./scheduler-support/scheduler-helpers";
import { startTestEngine, type TestEngine } from "./support/test-engine";

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
    running = await startTestEngine({ appDir: APP, queryWorkers: 2, transactionTimeoutMs: 2_000 });
    client = new ConvexHttpClient(running.engine.cloudUrl, { logger: false });
    // Both query workers and the writer are started before any runaway (a cold start is not what is measured).
    await client.mutation(mark, { label: "warm-up" });
    await Promise.all([client.query(count, {}), client.query(count, {})]);
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
    expect(await client.query(count, {})).toBe(2);
    events.push("others answered");
    await runaway;
    expect(events[0]).toBe("others answered");
    expect(events[1]).toMatch(/^runaway failed: .*spin:forever ran longer than 2 s and was stopped/);
    // The stopped worker is replaced: the next queries run as before.
    await client.mutation(mark, { label: "after" });
    expect(await Promise.all([client.query(count, {}), client.query(count, {}), client.query(count, {})])).toEqual([3, 3, 3]);
  });

  test("several runaways at once do not stall the engine", async () => {
    const runaways = [1, 2, 3].map(() => client.query(forever, {}).then(() => "returned", (e: Error) => e.message));
    // Both workers are taken (and one runaway waits): the next query waits for a worker,
    // but it is answered once the limit frees them, and so is everyone after it.
    expect(await client.query(count, {})).toBe(3);
    for (const outcome of await Promise.all(runaways)) expect(outcome).toMatch(/ran longer than 2 s and was stopped/);
    expect(await client.query(count, {})).toBe(3);
  });

  test("an endless mutation is stopped at its limit: its write is discarded, the mutations batched with it commit exactly once", async () => {
    const runtime = running.engine.app.runtime;
    const mutate = (path: string, label: string, requestId: number) =>
      runtime.call({ path, args: { label }, identity: null, allowInternal: false, expectKind: "mutation", origin: "client", idempotencyKey: { sessionId: "runaway", requestId } });
    const events: string[] = [];
    // Started in one tick: one group-committed batch with the runaway in the middle.
    const batch = Promise.all([mutate("spin:mark", "batched before", 1), mutate("spin:writeThenSpin", "doomed", 2), mutate("spin:mark", "batched after", 3)]).then((outcomes) => {
      events.push("batch answered");
      return outcomes;
    });
    // Queries are answered while the writer spins.
    expect(await client.query(count, {})).toBe(3);
    events.push("query answered");
    const [before, doomed, after] = await batch;
    expect(events).toEqual(["query answered", "batch answered"]);
    expect(doomed).toMatchObject({ status: "error", errorMessage: expect.stringMatching(/spin:writeThenSpin ran longer than 2 s and was stopped/) });
    expect(before!.status).toBe("success");
    expect(after!.status).toBe("success");
    // Retries of the same requests get their stored results: nothing runs twice.
    const again = await mutate("spin:mark", "batched before", 1);
    expect(again).toMatchObject({ status: "success", ts: (before as { ts: bigint }).ts });
    const labels = (await client.query(makeFunctionReference<"query">("spin:labels"), {})) as string[];
    expect(labels.filter((l) => l.startsWith("batched") || l === "doomed").sort()).toEqual(["batched after", "batched before"]);
    // The writer was replaced: the next mutation commits.
    await client.mutation(mark, { label: "later" });
    expect(await client.query(count, {})).toBe(6);
  });
});

describe("a runaway on the only query worker", () => {
  test("queries queued behind it on that worker are answered once the limit stops it", async () => {
    const running = await startTestEngine({ appDir: APP, queryWorkers: 1, transactionTimeoutMs: 1_500 });
    try {
      const client = new ConvexHttpClient(running.engine.cloudUrl, { logger: false });
      await client.mutation(mark, { label: "one" });
      expect(await client.query(count, {})).toBe(1);
      const runaway = client.query(forever, {}).then(
        () => "returned",
        (e: Error) => e.message,
      );
      // The worker takes these behind the runaway (or the pool holds them): either way they
      // run on the fresh worker that replaces it, in order, each exactly once.
      const labels = makeFunctionReference<"query">("spin:labels");
      const after = await Promise.all([client.query(count, {}), client.query(labels, {})]);
      expect(after).toEqual([1, ["one"]]);
      expect(await runaway).toMatch(/spin:forever ran longer than 1.5 s and was stopped/);
    } finally {
      await running.close();
    }
  });
});

describe("runaway scheduled functions", () => {
  test("a scheduled mutation that loops forever is stopped and marked failed once, not run again and again", async () => {
    const running = await startTestEngine({ appDir: APP, queryWorkers: 1, transactionTimeoutMs: 1_500 });
    try {
      const client = new ConvexHttpClient(running.engine.cloudUrl, { logger: false });
      const jobId = await client.mutation(makeFunctionReference<"mutation">("spin:scheduleSpin"), {});
      const job = makeFunctionReference<"query">("spin:job");
      // The scheduler runs it at once; the limit stops it; then its state changes.
      const state = await eventually(async () => {
        const { state } = (await client.query(job, { id: jobId })) as { state: { kind: string; error?: string } };
        return state.kind === "pending" || state.kind === "inProgress" ? undefined : state;
      }, "the job's final state");
      expect(state).toEqual({ kind: "failed", error: expect.stringMatching(/spin:writeThenSpin ran longer than 1.5 s and was stopped/) });
      expect(await client.query(makeFunctionReference<"query">("spin:labels"), {})).not.toContain("scheduled");
    } finally {
      await running.close();
    }
  });
});

describe("runaway functions and SIGTERM", () => {
  test("SIGTERM stops the engine while a mutation loops forever (default time limit, 30 s)", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "runaway-sigterm-"));
    const engine = await spawnEngine({ appDir: APP, dataDir });
    try {
      const client = new ConvexHttpClient(engine.cloudUrl, { logger: false });
      await client.mutation(mark, { label: "ready" });
      const spinning = client.mutation(makeFunctionReference<"mutation">("spin:writeThenSpin"), { label: "never" }).catch((e: Error) => e);
      // The mutation went out first; queries are still answered while the writer loops. Then the engine is told to stop.
      expect(await client.query(count, {})).toBe(1);
      const exit = await engine.stop("SIGTERM");
      expect(exit).toBe(0);
      expect(engine.output()).toContain("stopped");
      expect(await spinning).toBeInstanceOf(Error);
    } finally {
      await engine.stop("SIGKILL");
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
