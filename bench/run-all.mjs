#!/usr/bin/env node
// `npm run bench [name…]`: runs each bench/*.bench.ts (built with esbuild) one
// after another in its own process, so one benchmark's heap and timers never
// skew the next. Benchmarks are not tests: they print tables.
import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { runTs } from "../scripts/run-ts.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error(`no benchmark matches ${filters.join(", ")}`);
  process.exit(1);
}
let failed = 0;
for (const file of files) {
  console.log(`\n=== ${file} ===`);
  const status = await runTs(path.join("bench", file), [], ["--expose-gc"]);
  if (status !== 0) {
    failed += 1;
    console.error(`${file} failed (exit ${status})`);
  }
}
process.exit(failed === 0 ? 0 : 1);
