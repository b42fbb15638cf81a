import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, expect, test } from "vitest";
import { bundleApp } from "../../packages/engine/src/runtime/app-bundler";
import { APP_DIR, startTestEngine, type TestEngine } from "../support/app-engine";

// A way to force full GCs inside the test worker, for a stable heap reading.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

let running: TestEngine;
beforeAll(async () => {
  running = await startTestEngine();
});
afterAll(async () => running?.close());

/**
 * Dev mode swaps the functions in on every save; each swap evaluates a fresh
 * copy of the app's code. Those copies must be garbage once replaced, or a
 * long `npm run dev` session grows without bound. (bench/dev-reload-memory
 * measures the same with real rebuilds.)
 */
test("100 reloads of the functions leave the heap flat", async () => {
  const bundle = await bundleApp(APP_DIR);
  const heap = () => {
    gc();
    gc();
    return process.memoryUsage().heapUsed;
  };
  for (let i = 0; i < 10; i++) await running.engine.reload(bundle);
  const after10 = heap();
  for (let i = 0; i < 90; i++) await running.engine.reload(bundle);
  const after100 = heap();
  // One evaluated copy of the app holds ~0.3 MB; 90 leaked copies measured ~30 MB.
  expect((after100 - after10) / 1024 / 1024).toBeLessThan(8);
}, 60_000);
