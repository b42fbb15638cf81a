/**
 * Micro-benchmark of the executor: what one `ctx.db` operation costs as user
 * code sees it (syscall ABI, query planning, store, validation), measured in
 * process through `runtime.call` with no HTTP. Each function repeats its
 * operation `TIMES` times; the cost of an empty query call is subtracted and
 * the rest divided by `TIMES`. Also: an empty call, a 20-row indexed page
 * with a `returns` validator, and a durable one-patch mutation, alone and 64
 * at a time (group commit). Fixed data: 2,000 items of 40 owners. The query
 * cache is off, so every call runs.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createEngine } from "../packages/engine/src/engine";
import type { CallRequest } from "../packages/engine/src/runtime/runtime";
import { quietLogger } from "../packages/engine/test/support/test-engine";

const ITEMS = 2_000;
const OWNERS = 40;
const TIMES = 100;
const ROUNDS = 9;
const quiet = quietLogger();

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "bench-syscalls-"));
  const engine = await createEngine({
    appDir: path.resolve("bench/fixtures/syscalls/convex"),
    dataDir,
    port: 0,
    sitePort: 0,
    logger: quiet,
    // Every call must run: the query cache would answer repeated calls without a single syscall.
    queryCache: false,
  });
  try {
    const { store } = engine;
    const runtime = engine.app.runtime;
    const ids: string[] = [];
    let counter = "";
    await runtime.transact(() => {
      for (let i = 0; i < ITEMS; i++) {
        ids.push(store.insert("items", { owner: `owner${i % OWNERS}`, n: Math.floor(i / OWNERS), label: `item ${i}` }));
      }
      counter = store.insert("counters", { value: 0 });
    });
    const call = async (path: string, args: CallRequest["args"], kind: "query" | "mutation" = "query") => {
      const outcome = await runtime.call({ path, args, identity: null, allowInternal: false, expectKind: kind, origin: "client" });
      if (outcome.status !== "success") throw new Error(`${path}: ${outcome.errorMessage}`);
    };
    const some = ids.slice(0, 10);

    const empty = await perCall(() => call("ops:empty", {}));
    const rows: Record<string, string>[] = [];
    const row = (operation: string, cost: Cost, divide = 1, minus: Cost = { median: 0, best: 0 }) =>
      rows.push({
        operation,
        "µs (median)": ((cost.median - minus.median) / divide).toFixed(2),
        "µs (best)": ((cost.best - minus.best) / divide).toFixed(2),
      });
    row("empty query call", empty);
    row("ctx.db.get (cached document)", await perCall(() => call("ops:gets", { ids: some, times: TIMES })), TIMES, empty);
    row("indexed .first() (hit)", await perCall(() => call("ops:firsts", { owner: "owner7", times: TIMES })), TIMES, empty);
    row("indexed .first() (miss)", await perCall(() => call("ops:misses", { times: TIMES })), TIMES, empty);
    row("20-row page + returns validator", await perCall(() => call("ops:page", { owner: "owner3" })));
    row("durable mutation, one at a time", await perCall(() => call("ops:bump", { id: counter }, "mutation")));
    const burst = 64;
    const all = () => Promise.all(Array.from({ length: burst }, () => call("ops:bump", { id: counter }, "mutation"))).then(() => {});
    row(`durable mutation, ${burst} in flight`, await perCall(all), burst);
    console.log(`µs per operation over ${ROUNDS} rounds: the median, and the best round (steadier on a shared machine)`);
    console.table(rows);
  } finally {
    await engine.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

interface Cost {
  median: number;
  best: number;
}

/** µs of one `run()`: median and best over ROUNDS batches (after a warm-up batch). */
async function perCall(run: () => Promise<void>): Promise<Cost> {
  const batch = 100;
  for (let i = 0; i < batch; i++) await run();
  const samples: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = performance.now();
    for (let i = 0; i < batch; i++) await run();
    samples.push(((performance.now() - start) * 1000) / batch);
  }
  samples.sort((a, b) => a - b);
  return { median: samples[Math.floor(ROUNDS / 2)]!, best: samples[0]! };
}

await main();
