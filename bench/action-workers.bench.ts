/**
 * Actions on worker threads (issue 10 item 7): what the thread hop costs. An action that
 * makes one `ctx.runQuery` (counting a 100-row table) is called in process through the
 * runtime, 2,000 times with 1 and with 16 in flight, with its actions on the main thread
 * (`actionWorkers: 0`, the old way) and on 16 action workers. The baseline is the same
 * query called directly (no action around it). CPU time is the whole process's (every
 * thread), per call.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";
import { createEngine, type Engine } from "../packages/engine/src/engine";
import { quietLogger } from "../packages/engine/test/support/test-engine";

const APP = path.resolve("packages/engine/test/fixtures/runaway/convex");
const CALLS = 2_000;
const ROWS = 100;
const quiet = quietLogger();

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "bench-actions-"));
  const start = (actionWorkers: number) =>
    createEngine({ appDir: APP, dataDir, port: 0, sitePort: 0, logger: quiet, queryCache: false, queryWorkers: 2, actionWorkers });
  try {
    console.log(`${ROWS} rows, ${CALLS} calls per row of the table (${availableParallelism()} cores here)`);
    const seeding = await start(0);
    for (let i = 0; i < ROWS; i++) await call(seeding, "spin:mark", "mutation", { label: `row ${i}` });
    await seeding.close();

    const rows: Record<string, string | number>[] = [];
    const measure = async (name: string, inFlight: number, run: () => Promise<unknown>) => {
      // Warm-up at the same concurrency: every worker the run will use is started, code compiled.
      for (let i = 0; i < 50; i++) await Promise.all(Array.from({ length: inFlight }, run));
      const cpu = process.cpuUsage();
      const t0 = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: inFlight }, async () => {
          while (next++ < CALLS) await run();
        }),
      );
      const wall = performance.now() - t0;
      const used = process.cpuUsage(cpu);
      rows.push({ name, inFlight, "calls/s": Math.round((CALLS / wall) * 1000), "CPU ms/call": +((used.user + used.system) / 1000 / CALLS).toFixed(3), "wall s": +(wall / 1000).toFixed(2) });
    };
    for (const inFlight of [1, 16]) {
      const engine = await start(0);
      try {
        await measure("query alone (baseline)", inFlight, () => call(engine, "spin:count", "query", {}));
        await measure("action on the main thread", inFlight, () => call(engine, "spin:countAction", "action", {}));
      } finally {
        await engine.close();
      }
      const workers = await start(16);
      try {
        await measure("action on action workers", inFlight, () => call(workers, "spin:countAction", "action", {}));
      } finally {
        await workers.close();
      }
    }
    console.table(rows);
    for (const inFlight of [1, 16]) {
      const base = rows.find((r) => r.name === "query alone (baseline)" && r.inFlight === inFlight)!;
      for (const r of rows.filter((r) => r.inFlight === inFlight && r !== base)) {
        console.log(`${inFlight} in flight: ${r.name}: ${(Number(base["calls/s"]) / Number(r["calls/s"])).toFixed(2)}x the baseline's time per call`);
      }
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function call(engine: Engine, path: string, kind: "query" | "mutation" | "action", args: Record<string, string>): Promise<unknown> {
  const outcome = await engine.app.runtime.call({ path, args, identity: null, allowInternal: false, expectKind: kind, origin: "client" });
  if (outcome.status !== "success") throw new Error(`${path}: ${outcome.errorMessage}`);
  return outcome.value;
}

await main();
