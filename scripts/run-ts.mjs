// Builds a TypeScript entry point with esbuild (packages stay external) into
// dist/ and runs it in its own Node process. Used by `npm run seed` and the
// benchmark runner; the engine's CLI has its own builder in bin/.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildTs } from "../packages/engine/scripts/build-ts.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Bundles `entry` (a path relative to the repository) and runs it with `args`; returns the exit code. */
export async function runTs(entry, args = [], nodeArgs = []) {
  const out = path.join(root, "dist", entry.replace(/\.ts$/, ".mjs"));
  await buildTs(path.join(root, entry), out);
  const result = spawnSync(process.execPath, [...nodeArgs, out, ...args], { cwd: process.cwd(), stdio: "inherit" });
  return result.status ?? 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [entry, ...args] = process.argv.slice(2);
  if (!entry) {
    console.error("usage: node scripts/run-ts.mjs <file.ts> [args…]");
    process.exit(2);
  }
  process.exit(await runTs(entry, args));
}
