import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, renameSync, statSync, unlinkSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

/**
 * The query worker's JavaScript entry. Worker threads need a JavaScript file, while the
 * engine is TypeScript run by vitest (tests) or bundled into `dist/cli.mjs` (the CLI), so
 * both find the TypeScript entry in the repository and bundle it with esbuild once,
 * into `node_modules/.cache/convex-local/`, named by a digest of the engine's source
 * files (path, size, mtime): a process that finds the file starts its workers at once,
 * and an edited engine gets a fresh build. npm packages stay external and resolve from
 * the repository's `node_modules` (the file lives below it).
 */

const ENTRY = path.join("engine", "runtime", "query-workers", "query-worker-main.ts");

let built: Promise<string> | null = null;

/** The path of the built worker entry (built on first use in this process). */
export function queryWorkerScript(): Promise<string> {
  built ??= build().catch((e: unknown) => {
    built = null;
    throw e;
  });
  return built;
}

async function build(): Promise<string> {
  const root = repositoryRoot();
  const digest = createHash("sha256").update(process.version);
  sourceDigest(path.join(root, "engine"), digest);
  const outDir = path.join(root, "node_modules", ".cache", "convex-local");
  const outfile = path.join(outDir, `query-worker-${digest.digest("hex").slice(0, 16)}.mjs`);
  if (existsSync(outfile)) return outfile;
  mkdirSync(outDir, { recursive: true });
  // Built under a temporary name and renamed: processes starting at once never load half a file.
  const tmp = `${outfile}.${process.pid}.${Date.now()}.tmp.mjs`;
  await esbuild.build({
    entryPoints: [path.join(root, ENTRY)],
    outfile: tmp,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    // No source map: parsing one costs every worker's start more than its stack traces are worth.
    sourcemap: false,
    logLevel: "warning",
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  renameSync(tmp, outfile);
  removeStaleBuilds(outDir, outfile);
  return outfile;
}

/** Builds of other engine versions, once a day old, go (a process may still be starting one that is younger). */
function removeStaleBuilds(outDir: string, keep: string): void {
  const dayAgo = Date.now() - 24 * 3600_000;
  for (const name of readdirSync(outDir)) {
    const full = path.join(outDir, name);
    if (full === keep || !name.startsWith("query-worker-")) continue;
    try {
      if (statSync(full).mtimeMs < dayAgo) unlinkSync(full);
    } catch {
      // Another process removed it first.
    }
  }
}

/** The folder holding `engine/…/query-worker-main.ts`, searched upwards from this module (source or dist/). */
function repositoryRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, ENTRY))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`Cannot find ${ENTRY} above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

function sourceDigest(dir: string, digest: ReturnType<typeof createHash>): void {
  for (const name of readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    const stat = statSync(full);
    if (stat.isDirectory()) sourceDigest(full, digest);
    else if (name.endsWith(".ts")) digest.update(`${full}\0${stat.size}\0${stat.mtimeMs}\n`);
  }
}
