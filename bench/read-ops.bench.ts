/**
 * Micro-benchmark of one read inside a query run, in the CPU of the query worker that runs
 * it: `ctx.db.get` of a cached document, an indexed `.first()` that finds a row and one
 * that finds none. Each function of `bench/fixtures/syscalls` repeats its read `TIMES`
 * times; the worker's CPU for a batch of calls (from `/proc/self/task/<tid>/schedstat`,
 * nanoseconds, Linux only) minus that of as many empty calls (the baseline, measured in
 * the same round) is divided by the number of reads. CPU, not wall time, so the figure
 * holds on a shared machine; wall time is printed beside it. One query worker, the query
 * cache off. `npm run bench -- read-ops`.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createEngine } from "../packages/engine/src/engine";
import type { CallRequest } from "../packages/engine/src/runtime/runtime";
import { quietLogger } from "../packages/engine/test/support/test-engine";

const ITEMS = 2_000;
const OWNERS = 40;
const TIMES = 200;
const CALLS = 100;
const ROUNDS = 9;

/** Run time in ns of every thread of this process but the main one, by tid. */
function threadNanos(): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync("/proc/self/task")) {
    if (tid === String(process.pid)) continue;
    try {
      out.set(tid, Number(readFileSync(`/proc/self/task/${tid}/schedstat`, "utf8").split(" ")[0]));
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "bench-read-ops-"));
  const engine = await createEngine({
    appDir: path.resolve("bench/fixtures/syscalls/convex"),
    dataDir,
    port: 0,
    sitePort: 0,
    logger: quietLogger(),
    queryCache: false,
    queryWorkers: 1,
  });
  try {
    const { store } = engine;
    const runtime = engine.app.runtime;
    const ids: string[] = [];
    await runtime.transact(() => {
      for (let i = 0; i < ITEMS; i++) {
        ids.push(store.insert("items", { owner: `owner${i % OWNERS}`, n: Math.floor(i / OWNERS), label: `item ${i}` }));
      }
    });
    const call = async (fn: string, args: CallRequest["args"]) => {
      const outcome = await runtime.call({ path: fn, args, identity: null, allowInternal: false, expectKind: "query", origin: "client" });
      if (outcome.status !== "success") throw new Error(`${fn}: ${outcome.errorMessage}`);
    };
    const some = ids.slice(0, 10);
    const cases: [string, () => Promise<void>][] = [
      ["empty query call (baseline)", () => call("ops:empty", {})],
      ["ctx.db.get (cached document)", () => call("ops:gets", { ids: some, times: TIMES })],
      ["indexed .first() (hit)", () => call("ops:firsts", { owner: "owner7", times: TIMES })],
      ["indexed .first() (miss)", () => call("ops:misses", { times: TIMES })],
    ];
    /** Worker CPU ns and wall ns of CALLS calls, per case, per round. */
    const samples = cases.map(() => ({ cpu: [] as number[], wall: [] as number[] }));
    for (const [, run] of cases) for (let i = 0; i < CALLS; i++) await run();
    for (let r = 0; r < ROUNDS; r++) {
      for (let c = 0; c < cases.length; c++) {
        const before = threadNanos();
        const start = process.hrtime.bigint();
        for (let i = 0; i < CALLS; i++) await cases[c]![1]();
        const wall = Number(process.hrtime.bigint() - start);
        let worker = 0;
        for (const [tid, ns] of threadNanos()) worker = Math.max(worker, ns - (before.get(tid) ?? 0));
        samples[c]!.cpu.push(worker);
        samples[c]!.wall.push(wall);
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const base = samples[0]!;
    const rows = cases.map(([operation], c) => {
      const s = samples[c]!;
      const per = c === 0 ? CALLS : CALLS * TIMES;
      // Each round's baseline is the empty calls of the same round, so load drifts cancel.
      const minus = (xs: number[], ys: number[]) => (c === 0 ? xs : xs.map((x, i) => x - ys[i]!));
      return {
        operation,
        "worker CPU µs (median)": (median(minus(s.cpu, base.cpu)) / per / 1000).toFixed(3),
        "worker CPU µs (best)": (Math.min(...minus(s.cpu, base.cpu)) / per / 1000).toFixed(3),
        "wall µs (median)": (median(minus(s.wall, base.wall)) / per / 1000).toFixed(3),
      };
    });
    console.log(`per read (per call for the baseline), ${CALLS} calls × ${TIMES} reads, ${ROUNDS} rounds; the busiest non-main thread is the worker`);
    console.table(rows);
  } finally {
    await engine.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
