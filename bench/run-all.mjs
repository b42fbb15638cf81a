#!/usr/bin/env node
// `npm run bench [name…]`: builds each bench/*.bench.ts with esbuild and runs
// them one after another in their own process, so one benchmark's heap and
// timers never skew the next. Benchmarks are not tests: they print tables.
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..");
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
  const out = path.join(root, "dist", "bench", file.replace(/\.ts$/, ".mjs"));
  await build({
    entryPoints: [path.join(here, file)],
    outfile: out,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    sourcemap: "inline",
    logLevel: "warning",
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  console.log(`\n=== ${file} ===`);
  const result = spawnSync(process.execPath, ["--expose-gc", out], { cwd: root, stdio: "inherit" });
  if (result.status !== 0) {
    failed += 1;
    console.error(`${file} failed (exit ${result.status})`);
  }
}
process.exit(failed === 0 ? 0 : 1);
