/**
 * What a component's scoping costs: the same operation done by the app in its
 * own namespace (the baseline, measured in the same run) and done through a
 * component, measured in process through `runtime.call` with no HTTP. Each
 * function repeats its operation `TIMES` times; the cost of an empty query
 * call is subtracted and the rest divided by `TIMES`.
 *
 * - `db.get` on the app's table vs `db.get` inside the component on its own
 *   table (one call into the component, then the gets): the scoped view's
 *   price per read;
 * - `ctx.runQuery` of an app query vs of a component's exported query: the
 *   price of crossing into a component (reference resolution, a scoped
 *   execution, identity dropped).
 *
 * Fixed data: 1,000 documents in the app's `items` and 1,000 in the
 * component's. The query cache is off, so every call runs.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createEngine } from "../packages/engine/src/engine";
import type { CallRequest } from "../packages/engine/src/runtime/runtime";
import { quietLogger } from "../packages/engine/test/support/test-engine";

const DOCUMENTS = 1_000;
const TIMES = 100;
const ROUNDS = 9;
const quiet = quietLogger();

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "bench-components-"));
  const engine = await createEngine({
    appDir: path.resolve("bench/fixtures/components/convex"),
    dataDir,
    port: 0,
    sitePort: 0,
    logger: quiet,
    queryCache: false,
  });
  try {
    const runtime = engine.app.runtime;
    const call = async (fn: string, args: CallRequest["args"], kind: "query" | "mutation" = "query") => {
      const outcome = await runtime.call({ path: fn, args, identity: null, allowInternal: false, expectKind: kind, origin: "client" });
      if (outcome.status !== "success") throw new Error(`${fn}: ${outcome.errorMessage}`);
      return outcome.value;
    };
    const { ids, innerIds } = (await call("ops:seed", { count: DOCUMENTS }, "mutation")) as { ids: string[]; innerIds: string[] };
    const some = ids.slice(0, 10);
    const innerSome = innerIds.slice(0, 10);

    const empty = await perCall(() => call("ops:empty", {}));
    const appGet = perOperation(await perCall(() => call("ops:appGets", { ids: some, times: TIMES })), empty);
    const innerGet = perOperation(await perCall(() => call("ops:innerGets", { ids: innerSome, times: TIMES })), empty);
    const appNested = perOperation(await perCall(() => call("ops:appNested", { times: TIMES })), empty);
    const innerNested = perOperation(await perCall(() => call("ops:innerNested", { times: TIMES })), empty);

    const rows = [
      row("ctx.db.get (cached document)", appGet, innerGet),
      row("ctx.runQuery of a no-op query", appNested, innerNested),
    ];
    console.log(`µs per operation over ${ROUNDS} rounds (median; best round in brackets), ${DOCUMENTS} documents on each side`);
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

function perOperation(cost: Cost, empty: Cost): Cost {
  return { median: (cost.median - empty.median) / TIMES, best: (cost.best - empty.best) / TIMES };
}

function row(operation: string, app: Cost, component: Cost): Record<string, string> {
  return {
    operation,
    "app (baseline) µs": `${app.median.toFixed(2)} [${app.best.toFixed(2)}]`,
    "through a component µs": `${component.median.toFixed(2)} [${component.best.toFixed(2)}]`,
    "ratio (median)": (component.median / app.median).toFixed(2),
  };
}

/** µs of one `run()`: median and best over ROUNDS batches (after a warm-up batch). */
async function perCall(run: () => Promise<unknown>): Promise<Cost> {
  const batch = 50;
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
