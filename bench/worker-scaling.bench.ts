/**
 * Worker scaling (issue 11): executions per second of the uncached 20-post feed page
 * (`posts.getGlobalFeed`, 1,000 users, 10,000 posts, 100,000 likes) with 0 (queries on
 * the main thread), 1, 2 and 4 query workers on the same data folder, called in process
 * through the runtime with 32 in flight (no HTTP, so the executors are what is measured).
 * The baseline is the same query as hand-written better-sqlite3 SQL in this process. CPU
 * time is the whole process's (every thread). On a machine with more cores the rows past
 * its core count keep growing; on 2 cores they flatten at 2.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";
import { createEngine } from "../packages/engine/src/engine";
import type { CallOutcome } from "../packages/engine/src/runtime/function-outcome";
import type { Identity } from "../packages/engine/src/runtime/services";
import { seededRandom, randomTools } from "../packages/engine/test/support/seeded-random";
import { buildBaseline, LIKES, PAGE, POSTS, seed, USERS } from "./fixtures/feed-data";
import { quietLogger } from "../packages/engine/test/support/test-engine";

const WORKERS = [0, 1, 2, 4];
const EXECUTIONS = 3_000;
const WARM_UP = 1_000;
const IN_FLIGHT = 32;

/** Runs `run(0)` … `run(count - 1)` with IN_FLIGHT of them in flight at once. */
async function inFlight(count: number, run: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next < count) await run(next++);
  }));
}
const quiet = quietLogger();

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "bench-scaling-"));
  const start = (queryWorkers: number) =>
    createEngine({ appDir: path.resolve("convex"), dataDir, port: 0, sitePort: 0, logger: quiet, queryCache: false, queryWorkers });
  try {
    console.log(`seeding ${USERS} users, ${POSTS} posts, ${LIKES} likes…  (${availableParallelism()} cores here)`);
    const seeding = await start(0);
    const seeded = await seed(seeding, randomTools(seededRandom(42)));
    await seeding.close();
    const baseline = buildBaseline(seeded);
    const rng = randomTools(seededRandom(7));
    const viewers = Array.from({ length: 50 }, () => rng.int(0, USERS - 1));
    // The app reads the signed-in user by Clerk id (`tokenIdentifier` is not used).
    const identities: Identity[] = viewers.map((u) => ({
      subject: seeded.clerkIds[u]!,
      issuer: "https://bench.example",
      tokenIdentifier: `https://bench.example|${seeded.clerkIds[u]!}`,
    }));

    const rows: Record<string, string | number>[] = [];
    const measure = async (name: string, run: (i: number) => Promise<unknown>) => {
      // Warm-up with as many in flight as measured, so every worker is started and has its code
      // compiled and caches filled (one at a time, the pool hands every run to the first idle
      // worker, and the others would warm up inside the measured window).
      await inFlight(WARM_UP, run);
      const cpu = process.cpuUsage();
      const t0 = performance.now();
      await inFlight(EXECUTIONS, run);
      const wall = performance.now() - t0;
      const used = process.cpuUsage(cpu);
      return { name, rate: (EXECUTIONS / wall) * 1000, cpuMs: (used.user + used.system) / 1000 / EXECUTIONS, wallS: wall / 1000 };
    };
    const sql = await measure("SQL in process (baseline)", async (i) => baseline.page(seeded.userIds[viewers[i % viewers.length]!]!));
    for (const workers of WORKERS) {
      const engine = await start(workers);
      try {
        const runtime = engine.app.runtime;
        const run = async (i: number) => {
          const outcome: CallOutcome = await runtime.call({
            path: "posts:getGlobalFeed",
            args: { paginationOpts: { numItems: PAGE, cursor: null } },
            identity: identities[i % identities.length]!,
            allowInternal: false,
            origin: "client",
          });
          if (outcome.status !== "success") throw new Error(outcome.errorMessage);
        };
        const r = await measure(workers === 0 ? "0 workers (main thread)" : `${workers} query worker${workers > 1 ? "s" : ""}`, run);
        rows.push({ executor: r.name, "executions/s": Math.round(r.rate), "CPU ms/execution": r.cpuMs.toFixed(3), "wall s": r.wallS.toFixed(2), "vs SQL (rate)": `${(sql.rate / r.rate).toFixed(1)}× slower` });
      } finally {
        await engine.close();
      }
    }
    rows.push({ executor: sql.name, "executions/s": Math.round(sql.rate), "CPU ms/execution": sql.cpuMs.toFixed(3), "wall s": sql.wallS.toFixed(2), "vs SQL (rate)": "1.0×" });
    const inline = rows[0]!["executions/s"] as number;
    console.log(`\n${PAGE}-post feed page, query cache off, ${EXECUTIONS} executions, ${IN_FLIGHT} in flight`);
    console.table(rows.map((r) => ({ ...r, "vs 0 workers": `${((r["executions/s"] as number) / inline).toFixed(2)}×` })));
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
