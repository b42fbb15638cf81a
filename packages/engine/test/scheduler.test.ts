import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestEngine, type TestEngine } from "./support/test-engine";
import { drainScheduler, eventually, startGateServer, type GateServer } from "./scheduler-support/scheduler-helpers";

/**
 * The scheduler on a small fixture app, through the official HTTP client:
 * jobs run once, without identity, with Convex's states; failures roll back
 * their writes; actions go through `inProgress`; concurrency is bounded; a
 * drain runs future jobs by moving the deployment clock.
 */

const APP = path.join(__dirname, "fixtures/scheduler/convex");
const fn = <K extends "query" | "mutation" | "action">(name: string) => makeFunctionReference<K>(name);

type Job = {
  _id: string;
  name: string;
  args: unknown[];
  scheduledTime: number;
  completedTime?: number;
  state: { kind: string; error?: string };
};
type Run = { label: string; signedIn: boolean; at: number };

describe("scheduler", () => {
  let running: TestEngine;
  let client: ConvexHttpClient;
  let gate: GateServer;

  const schedule = (fnName: string, args: Record<string, unknown>, delayMs = 0) =>
    client.mutation(fn<"mutation">("jobs:scheduleAfter"), { delayMs, fn: fnName, args }) as Promise<string>;
  const job = (id: string) => client.query(fn<"query">("jobs:job"), { id }) as Promise<Job | null>;
  const runs = async (label?: string) =>
    ((await client.query(fn<"query">("jobs:runs"), {})) as Run[]).filter((r) => label === undefined || r.label === label);
  const drain = (body?: Record<string, unknown>) => drainScheduler(running.engine, body);
  const settled = (id: string) =>
    eventually(async () => {
      const j = await job(id);
      return j !== null && j.completedTime !== undefined ? j : undefined;
    }, `job ${id} to finish`);

  beforeAll(async () => {
    gate = await startGateServer();
    running = await startTestEngine({ appDir: APP, scheduler: { maxConcurrentJobs: 2 } });
    client = new ConvexHttpClient(running.engine.cloudUrl, { logger: false });
    client.setAuth(await running.engine.mintDevToken({ subject: "ada" }));
  });
  afterAll(async () => {
    gate?.releaseAll({ forever: true });
    await running?.close();
    await gate?.close();
  });

  test("runAfter(0) runs the job on its own, once, without the scheduler's caller identity", async () => {
    const id = await schedule("record", { label: "soon" });
    const done = await settled(id);
    expect(done).toMatchObject({ name: "jobs.js:record", args: [{ label: "soon" }], state: { kind: "success" } });
    expect(done.completedTime!).toBeGreaterThanOrEqual(done.scheduledTime);
    const [run, ...more] = await runs("soon");
    expect(more).toEqual([]);
    // Scheduled functions run with no identity, even when a signed-in user scheduled them.
    expect(run.signedIn).toBe(false);
  });

  test("a job due shortly waits for its time, then its timer runs it", async () => {
    const before = Date.now();
    const id = await schedule("record", { label: "timer" }, 300);
    expect((await job(id))?.state).toEqual({ kind: "pending" });
    const done = await settled(id);
    expect(done.state).toEqual({ kind: "success" });
    const [run] = await runs("timer");
    expect(run.at).toBeGreaterThanOrEqual(done.scheduledTime);
    expect(done.scheduledTime).toBeGreaterThanOrEqual(before + 300);
  });

  test("clients cannot call the internal job, the scheduler can", async () => {
    await expect(client.mutation(fn<"mutation">("jobs:record"), { label: "direct" })).rejects.toThrow(/Could not find public function/);
    const id = await schedule("record", { label: "internal-ok" });
    expect((await settled(id)).state.kind).toBe("success");
  });

  test("a failing mutation job records failed with its error, and its writes and file deletions roll back", async () => {
    const failing = await schedule("fail", { label: "doomed" });
    const storageId = (await client.action(fn<"action">("jobs:storeText"), { text: "keep me" })) as string;
    const deleting = await schedule("deleteThenFail", { label: "file", storageId });
    await drain();
    const failed = await job(failing);
    expect(failed?.state.kind).toBe("failed");
    expect(failed?.state.error).toMatch(/job doomed failed on purpose/);
    expect(failed?.completedTime).toBeTypeOf("number");
    expect(await runs("doomed")).toEqual([]);

    expect((await job(deleting))?.state.kind).toBe("failed");
    const file = (await client.query(fn<"query">("jobs:file"), { storageId })) as { doc: unknown; url: string };
    expect(file.doc).not.toBeNull();
    const served = await fetch(file.url);
    expect(served.status).toBe(200);
    expect(await served.text()).toBe("keep me");
  });

  test("cancel: a pending job becomes canceled and never runs", async () => {
    const id = await schedule("record", { label: "never" }, 60 * 60 * 1000);
    await client.mutation(fn<"mutation">("jobs:cancel"), { id });
    const canceled = await job(id);
    expect(canceled?.state).toEqual({ kind: "canceled" });
    expect(canceled?.completedTime).toBeTypeOf("number");
    await drain();
    expect(await runs("never")).toEqual([]);
    expect((await job(id))?.state).toEqual({ kind: "canceled" });
  });

  test("actions go pending → inProgress → success, or failed with the error", async () => {
    const slow = await schedule("slowAction", { label: "slow", url: gate.url });
    await gate.arrived(1);
    expect((await job(slow))?.state).toEqual({ kind: "inProgress" });
    expect(await runs("slow:start")).toHaveLength(1);
    gate.releaseAll();
    expect((await settled(slow)).state).toEqual({ kind: "success" });
    expect(await runs("slow:end")).toHaveLength(1);

    const ok = await schedule("recordAction", { label: "by-action" });
    const bad = await schedule("failAction", { label: "x" });
    await drain();
    expect((await job(ok))?.state).toEqual({ kind: "success" });
    expect(await runs("by-action")).toHaveLength(1);
    const failed = await job(bad);
    expect(failed?.state.kind).toBe("failed");
    expect(failed?.state.error).toMatch(/action failed on purpose/);
  });

  test("no more jobs run at once than the bound allows (2 here)", async () => {
    const before = gate.arrivals;
    const ids = [];
    for (let i = 0; i < 5; i += 1) ids.push(await schedule("slowAction", { label: `bounded${i}`, url: gate.url }));
    await gate.arrived(before + 2);
    const states = await Promise.all(ids.map(async (id) => (await job(id))!.state.kind));
    expect(states.filter((s) => s === "inProgress")).toHaveLength(2);
    expect(states.filter((s) => s === "pending")).toHaveLength(3);
    gate.releaseAll({ forever: true });
    await drain();
    const done = await Promise.all(ids.map(async (id) => (await job(id))!.state.kind));
    expect(done).toEqual(["success", "success", "success", "success", "success"]);
    gate.releaseAll();
  });

  test("a drain runs chains of jobs until none is pending", async () => {
    await schedule("chain", { label: "chain", left: 5 });
    const result = await drain();
    expect(result.pending).toBe(0);
    expect(await runs("chain")).toHaveLength(6);
    const jobs = (await client.query(fn<"query">("jobs:jobs"), {})) as Job[];
    const chain = jobs.filter((j) => j.name === "jobs.js:chain");
    expect(chain.map((j) => j.state.kind)).toEqual(Array(6).fill("success"));
  });

  test("jobs scheduled from an action exist at once and run on drain", async () => {
    const id = (await client.action(fn<"action">("jobs:scheduleFromAction"), { delayMs: 5 * 60 * 1000, label: "from-action" })) as string;
    expect((await job(id))?.state).toEqual({ kind: "pending" });
    await drain();
    expect((await job(id))?.state).toEqual({ kind: "success" });
    expect(await runs("from-action")).toHaveLength(1);
  });

  test("runAt hours ahead runs on drain, which moves the deployment clock (functions see it) to the job's time", async () => {
    const at = Date.now() + 3 * 60 * 60 * 1000;
    const id = (await client.mutation(fn<"mutation">("jobs:scheduleAt"), { at, fn: "record", args: { label: "later" } })) as string;
    expect((await drain({ advanceClock: false })).ran).toBe(0);
    expect((await job(id))?.state).toEqual({ kind: "pending" });

    const result = await drain();
    expect(result.pending).toBe(0);
    expect(result.clockOffsetMs).toBeGreaterThan(2.9 * 60 * 60 * 1000);
    const done = await job(id);
    expect(done?.state).toEqual({ kind: "success" });
    expect(done!.completedTime!).toBeGreaterThanOrEqual(at);
    const [run] = await runs("later");
    expect(run.at).toBeGreaterThanOrEqual(at);
    expect((await client.query(fn<"query">("jobs:now"), {})) as number).toBeGreaterThanOrEqual(at);
  });
});
