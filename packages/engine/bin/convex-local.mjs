#!/usr/bin/env node
// Entry point of the engine's CLI. The engine is TypeScript; this builds it
// into dist/ with esbuild when the sources are newer than the build (a few
// hundred milliseconds), so `npm start` needs no separate build step.
import { existsSync, readdirSync, renameSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { buildTs } from "../scripts/build-ts.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const entry = path.join(root, "src", "cli", "main.ts");
const out = path.join(root, "dist", "cli.mjs");

function newestSource(dir) {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    const stat = statSync(full);
    if (stat.isDirectory()) newest = Math.max(newest, newestSource(full));
    else newest = Math.max(newest, stat.mtimeMs);
  }
  return newest;
}

const stale = !existsSync(out) || statSync(out).mtimeMs < newestSource(path.join(root, "src"));
if (stale) {
  // Built under a temporary name and renamed: several processes starting at
  // once (tests) never import a half-written file.
  const tmp = `${out}.${process.pid}.tmp.mjs`;
  await buildTs(entry, tmp);
  renameSync(tmp, out);
}
const { main } = await import(pathToFileURL(out).href);
process.exitCode = await main(process.argv.slice(2));
