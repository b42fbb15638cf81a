/**
 * Dev mode memory (issue #7): the Instagram app rebuilt with esbuild and
 * swapped in 100 times, as `npm run dev` does on every save. Heap and RSS
 * after a full GC at checkpoints; "flat" means the last checkpoints do not
 * keep growing. Baseline in the same run: the engine idle for the same time.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createEngine } from "../packages/engine/src/engine";
import { bundleApp } from "../packages/engine/src/runtime/app-bundler";
import { quietLogger } from "../packages/engine/test/support/test-engine";

const RELOADS = 100;
const quiet = quietLogger();
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --expose-gc (npm run bench does)");

const dataDir = mkdtempSync(path.join(tmpdir(), "bench-reload-"));
const appDir = path.resolve("convex");
const engine = await createEngine({ appDir, dataDir, port: 0, sitePort: 0, logger: quiet });
const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
const sample = () => {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
};
try {
  const rows: Record<string, string | number>[] = [];
  const start = sample();
  rows.push({ reloads: 0, "heap MB": mb(start.heap), "rss MB": mb(start.rss) });
  const t0 = performance.now();
  for (let i = 1; i <= RELOADS; i++) {
    await engine.reload(await bundleApp(appDir));
    if ([1, 10, 25, 50, 75, 100].includes(i)) {
      const s = sample();
      rows.push({ reloads: i, "heap MB": mb(s.heap), "rss MB": mb(s.rss) });
    }
  }
  const perReload = (performance.now() - t0) / RELOADS;
  console.log(`\n${RELOADS} rebuild + reloads of the Instagram app (${perReload.toFixed(0)} ms each)`);
  console.table(rows);
  const at10 = rows.find((r) => r.reloads === 10)!;
  const at100 = rows.find((r) => r.reloads === 100)!;
  console.log(`heap growth from reload 10 to 100: ${(Number(at100["heap MB"]) - Number(at10["heap MB"])).toFixed(1)} MB`);
} finally {
  await engine.close();
  rmSync(dataDir, { recursive: true, force: true });
}
