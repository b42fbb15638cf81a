import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { createHash, randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { eventually } from "./scheduler-support/scheduler-helpers";
import { startTestEngine, type TestEngine } from "./support/test-engine";

const APP = fileURLToPath(new URL("fixtures/runaway/convex", import.meta.url));
const count = makeFunctionReference<"query">("spin:count");
const forever = makeFunctionReference<"query">("spin:forever");
const mark = makeFunctionReference<"mutation">("spin:mark");
const spinAction = makeFunctionReference<"action">("spin:spinAction");
const countAction = makeFunctionReference<"action">("spin:countAction");

/** Resolves each time a function logs "spinning": the moment its CPU-bound loop starts. */
function spinSignal() {
  const waiters: (() => void)[] = [];
  let seen = 0;
  return {
    onFunctionLog: (_fn: string, _level: string, line: string) => {
      if (line !== "spinning") return;
      seen++;
      waiters.splice(0).forEach((wake) => wake());
    },
    /** Waits until `n` loops have started in all. */
    async started(n: number): Promise<void> {
      while (seen < n) await new Promise<void>((resolve) => waiters.push(resolve));
    },
    get count() {
      return seen;
    },
  };
}

/**
 * Issue 10 item 7: actions and HTTP actions run on worker threads, so a CPU-bound one
 * holds only its own thread; it is stopped at the action time limit with Convex's error
 * while the engine answers everybody else.
 */
describe("runaway actions", () => {
  let running: TestEngine;
  let client: ConvexHttpClient;
  const spins = spinSignal();
  beforeAll(async () => {
    running = await startTestEngine({ appDir: APP, queryWorkers: 1, actionWorkers: 2, actionTimeoutMs: 5_000, onFunctionLog: spins.onFunctionLog });
    client = new ConvexHttpClient(running.engine.cloudUrl, { logger: false });
    await client.mutation(mark, { label: "warm-up" });
    // Both action workers are started before any runaway (a cold start is not what is measured).
    await Promise.all([client.action(countAction, {}), client.action(countAction, {})]);
  });
  afterAll(async () => running?.close());

  test("a CPU-bound action does not stop a bystander's query, mutation or action, and is stopped at its limit with Convex's error", async () => {
    const events: string[] = [];
    const before = spins.count;
    const runaway = client.action(spinAction, {}).then(
      () => events.push("runaway returned"),
      (e: Error) => events.push(`runaway failed: ${e.message}`),
    );
    await spins.started(before + 1);
    // The loop runs on its worker; this thread, the query worker, the writer and the other action worker answer.
    await client.mutation(mark, { label: "during" });
    expect(await client.query(count, {})).toBe(2);
    expect(await client.action(countAction, {})).toBe(2);
    events.push("others answered");
    await runaway;
    expect(events[0]).toBe("others answered");
    expect(events[1]).toMatch(/^runaway failed: .*Action `spin:spinAction` execution timed out \(maximum duration 5s\)/);
    // Its worker is replaced: two actions run at once again.
    expect(await Promise.all([client.action(countAction, {}), client.action(countAction, {})])).toEqual([2, 2]);
  });

  test("a CPU-bound HTTP action does not stop a bystander's query, and is answered 500 with Convex's error at its limit", async () => {
    const before = spins.count;
    const events: string[] = [];
    const runaway = fetch(`${running.engine.siteUrl}/spin`).then(async (response) => {
      events.push(`runaway answered ${response.status}`);
      return (await response.json()) as { code: string };
    });
    await spins.started(before + 1);
    expect(await client.query(count, {})).toBe(2);
    events.push("others answered");
    const body = await runaway;
    expect(events).toEqual(["others answered", "runaway answered 500"]);
    expect(body.code).toMatch(/Function execution timed out \(maximum duration: 5s\)/);
  });

  test("an HTTP action that spins while streaming its body: the head and first chunk arrive, the body fails at the limit, others are answered", async () => {
    const before = spins.count;
    const response = await fetch(`${running.engine.siteUrl}/spin-body`);
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("first chunk\n");
    await client.mutation(mark, { label: "first chunk read" });
    await spins.started(before + 1);
    expect(await client.query(count, {})).toBe(3);
    // Stopped at the limit: the connection is cut instead of the body ending as if complete.
    await expect(
      (async () => {
        for (;;) if ((await reader.read()).done) return "ended";
      })(),
    ).rejects.toThrow();
  });

  test("a request body crosses to the worker whole, and an action can call another with every worker taken", async () => {
    const bytes = randomBytes(5 * 1024 * 1024);
    const response = await fetch(`${running.engine.siteUrl}/digest`, { method: "POST", body: bytes });
    expect(await response.json()).toEqual({ size: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") });
    // Two outer actions hold both workers; each inner one still runs.
    const nested = makeFunctionReference<"action">("spin:nestedAction");
    expect(await Promise.all([client.action(nested, {}), client.action(nested, {})])).toEqual([3, 3]);
  });
});

describe("runaway scheduled actions", () => {
  test("a scheduled action that loops forever is stopped and marked failed once, not run again", async () => {
    const spins = spinSignal();
    const running = await startTestEngine({ appDir: APP, actionTimeoutMs: 1_500, onFunctionLog: spins.onFunctionLog });
    try {
      const client = new ConvexHttpClient(running.engine.cloudUrl, { logger: false });
      const jobId = await client.mutation(makeFunctionReference<"mutation">("spin:scheduleSpinAction"), {});
      const job = makeFunctionReference<"query">("spin:job");
      const state = await eventually(async () => {
        const { state } = (await client.query(job, { id: jobId })) as { state: { kind: string; error?: string } };
        return state.kind === "pending" || state.kind === "inProgress" ? undefined : state;
      }, "the job's final state");
      expect(state).toEqual({ kind: "failed", error: expect.stringMatching(/Action `spin:spinAction` execution timed out \(maximum duration 1.5s\)/) });
      expect(spins.count).toBe(1);
      // The engine still runs actions.
      expect(await client.action(countAction, {})).toBe(0);
    } finally {
      await running.close();
    }
  });
});

describe("long actions", () => {
  test("an action that awaits longer than a query may run is not stopped (the action limit is 10 minutes by default)", async () => {
    const running = await startTestEngine({ appDir: APP, queryWorkers: 2, transactionTimeoutMs: 1_000 });
    try {
      const client = new ConvexHttpClient(running.engine.cloudUrl, { logger: false });
      // Both query workers are started first: the action's queries use one while the runaway holds the other.
      await Promise.all([client.query(count, {}), client.query(count, {})]);
      const waiting = client.action(makeFunctionReference<"action">("spin:waitForLabel"), { label: "release" });
      // A query past the 1 s limit is stopped: by then the action has awaited longer than a query may run.
      await expect(client.query(forever, {})).rejects.toThrow(/ran longer than 1 s and was stopped/);
      await client.mutation(mark, { label: "release" });
      expect(await waiting).toBe("saw release");
    } finally {
      await running.close();
    }
  });
});
