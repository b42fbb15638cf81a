/**
 * Micro-benchmark of the executor: what one `ctx.db` operation costs as user
 * code sees it (syscall ABI, query planning, store, validation), measured in
 * process through `runtime.call` with no HTTP. Each function repeats its
 * operation `TIMES` times; the cost of an empty query call is subtracted and
 * the rest divided by `TIMES`. Also: an empty call, a 20-row indexed page
 * with a `returns` validator, and a durable one-patch mutation, alone and 64
 * at a time (group commit). Fixed data: 2,000 items of 40 owners.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createEngine } from "../engine/engine";
import type { CallRequest } from "../engine/runtime/runtime";

const ITEMS = 2_000;
const OWNERS = 40;
const TIMES = 100;
const ROUNDS = 7;
const quiet = { info() {}, warn() {}, error: (m: string, e?: unknown) => console.error(m, e) };

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "bench-syscalls-"));
  const engine = await createEngine({
    appDir: path.resolve("bench/fixtures/syscalls/convex"),
    dataDir,
    port: 0,
    sitePort: 0,
    logger: quiet,
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
    const rows: { operation: string; "µs": string }[] = [{ operation: "empty query call", "µs": empty.toFixed(1) }];
    const perOp = async (operation: string, run: () => Promise<void>) => {
      const total = await perCall(run);
      rows.push({ operation, "µs": ((total - empty) / TIMES).toFixed(2) });
    };
    await perOp("ctx.db.get (cached document)", () => call("ops:gets", { ids: some, times: TIMES }));
    await perOp("indexed .first() (hit)", () => call("ops:firsts", { owner: "owner7", times: TIMES }));
    await perOp("indexed .first() (miss)", () => call("ops:misses", { times: TIMES }));
    rows.push({ operation: "20-row page + returns validator", "µs": (await perCall(() => call("ops:page", { owner: "owner3" }))).toFixed(1) });
    rows.push({ operation: "durable mutation, one at a time", "µs": (await perCall(() => call("ops:bump", { id: counter }, "mutation"))).toFixed(1) });
    const burst = 64;
    const perBurst = await perCall(() => Promise.all(Array.from({ length: burst }, () => call("ops:bump", { id: counter }, "mutation"))).then(() => {}));
    rows.push({ operation: `durable mutation, ${burst} in flight`, "µs": (perBurst / burst).toFixed(1) });
    console.table(rows);
  } finally {
    await engine.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Median µs of one `run()` over ROUNDS batches (after a warm-up batch). */
async function perCall(run: () => Promise<void>): Promise<number> {
  const batch = 50;
  for (let i = 0; i < batch; i++) await run();
  const samples: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = performance.now();
    for (let i = 0; i < batch; i++) await run();
    samples.push(((performance.now() - start) * 1000) / batch);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(ROUNDS / 2)]!;
}

await main();
