import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { INTERRUPTED_ACTION_ERROR } from "../src/scheduler/job-state";
import { spawnEngine } from "./support/engine-process";
import { startTestEngine, type TestEngine } from "./support/test-engine";
import { drainScheduler, eventually, startGateServer, type GateServer } from "./scheduler-support/scheduler-helpers";

/**
 * The scheduler across restarts on the same data folder: an action that was
 * running is marked failed and never run again, pending jobs run after the
 * restart, and nothing runs twice — after an orderly close and after SIGKILL.
 */

const APP = path.join(__dirname, "fixtures/scheduler/convex");
const fn = <K extends "query" | "mutation" | "action">(name: string) => makeFunctionReference<K>(name);
type Job = { _id: string; state: { kind: string; error?: string }; completedTime?: number };
type Run = { label: string };

describe("scheduler across restarts", () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setUp(): Promise<{ dataDir: string; gate: GateServer }> {
    const dataDir = mkdtempSync(path.join(tmpdir(), "scheduler-restart-"));
    const gate = await startGateServer();
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    cleanups.push(async () => {
      gate.releaseAll({ forever: true });
      await gate.close();
    });
    return { dataDir, gate };
  }

  async function restarted(dataDir: string): Promise<{ running: TestEngine; client: ConvexHttpClient }> {
    const running = await startTestEngine({ appDir: APP, dataDir });
    cleanups.push(() => running.close());
    return { running, client: new ConvexHttpClient(running.engine.cloudUrl, { logger: false }) };
  }

  const helpers = (client: ConvexHttpClient) => ({
    schedule: (fnName: string, args: Record<string, unknown>, delayMs = 0) =>
      client.mutation(fn<"mutation">("jobs:scheduleAfter"), { delayMs, fn: fnName, args }) as Promise<string>,
    job: (id: string) => client.query(fn<"query">("jobs:job"), { id }) as Promise<Job | null>,
    labels: async () => ((await client.query(fn<"query">("jobs:runs"), {})) as Run[]).map((r) => r.label).sort(),
  });

  test("close with an action running and a due job waiting: the action fails, the due job runs once, later jobs run on drain", async () => {
    const { dataDir, gate } = await setUp();
    // One job slot: the slow action holds it, so the due job is still waiting at close.
    const logs: string[] = [];
    const first = await startTestEngine({
      appDir: APP,
      dataDir,
      scheduler: { maxConcurrentJobs: 1 },
      onFunctionLog: (_path, _level, line) => logs.push(line),
    });
    const before = helpers(new ConvexHttpClient(first.engine.cloudUrl, { logger: false }));
    const slow = await before.schedule("slowAction", { label: "slow", url: gate.url });
    await gate.arrived(1);
    const due = await before.schedule("record", { label: "due" });
    const later = await before.schedule("record", { label: "later" }, 60 * 60 * 1000);
    expect((await before.job(slow))?.state.kind).toBe("inProgress");
    expect((await before.job(due))?.state.kind).toBe("pending");
    await first.close();

    const { running, client } = await restarted(dataDir);
    const after = helpers(client);
    const interrupted = await after.job(slow);
    expect(interrupted?.state).toEqual({ kind: "failed", error: INTERRUPTED_ACTION_ERROR });
    expect(interrupted?.completedTime).toBeTypeOf("number");
    // The due job runs on its own after the restart.
    await eventually(async () => ((await after.job(due))?.state.kind === "success" ? true : undefined), "the due job");
    await drainScheduler(running.engine);
    expect((await after.job(later))?.state.kind).toBe("success");
    expect(await after.labels()).toEqual(["due", "later", "slow:start"]);
    expect(gate.arrivals).toBe(1);

    // The abandoned action ended with the engine that ran it: its worker thread was stopped
    // at close, so its fetch was dropped mid-request and it never got to write its end.
    await gate.abandoned(1);
    gate.releaseAll();
    expect(await after.labels()).toEqual(["due", "later", "slow:start"]);
    expect(logs.filter((l) => l.startsWith("slowAction"))).toEqual([]);
  });

  test("SIGKILL with an action running: after restart it is failed, not re-run, and pending jobs run exactly once", async () => {
    const { dataDir, gate } = await setUp();
    const killed = await spawnEngine({ appDir: APP, dataDir });
    cleanups.push(async () => void (await killed.stop("SIGKILL")));
    const before = helpers(new ConvexHttpClient(killed.cloudUrl, { logger: false }));
    const slow = await before.schedule("slowAction", { label: "slow", url: gate.url });
    await gate.arrived(1);
    const chain = await before.schedule("chain", { label: "chain", left: 2 }, 60 * 60 * 1000);
    await before.schedule("record", { label: "ran-before-kill" });
    await eventually(async () => ((await before.labels()).includes("ran-before-kill") ? true : undefined), "a job to run");
    expect(await killed.stop("SIGKILL")).toBe("SIGKILL");

    const { running, client } = await restarted(dataDir);
    const after = helpers(client);
    expect((await after.job(slow))?.state).toEqual({ kind: "failed", error: INTERRUPTED_ACTION_ERROR });
    expect((await after.job(chain))?.state.kind).toBe("pending");
    const drained = await drainScheduler(running.engine);
    expect(drained.ran).toBe(3);
    expect(await after.labels()).toEqual(["chain", "chain", "chain", "ran-before-kill", "slow:start"]);
    expect(gate.arrivals).toBe(1);
    // A second drain finds nothing left to run.
    expect((await drainScheduler(running.engine)).ran).toBe(0);
  });

  test("finished jobs are deleted a week after they finished; pending ones are kept however old", async () => {
    const { dataDir } = await setUp();
    const first = await startTestEngine({ appDir: APP, dataDir });
    const before = helpers(new ConvexHttpClient(first.engine.cloudUrl, { logger: false }));
    const old = await before.schedule("record", { label: "old" });
    await eventually(async () => ((await before.job(old))?.state.kind === "success" ? true : undefined), "the first job");
    const far = await before.schedule("record", { label: "far" }, 30 * 24 * 60 * 60 * 1000);
    const week = await before.schedule("record", { label: "week" }, 8 * 24 * 60 * 60 * 1000);
    // Moves the deployment clock 8 days on and runs only the job due then.
    expect((await drainScheduler(first.engine, { maxJobs: 1 })).ran).toBe(1);
    await first.close();

    const { client } = await restarted(dataDir);
    const after = helpers(client);
    expect(await after.job(old)).toBeNull();
    expect((await after.job(week))?.state.kind).toBe("success");
    expect((await after.job(far))?.state.kind).toBe("pending");
  });
});
