import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { convexPackageDir, convexShimPlugin } from "./convex-shim/convex-shim-plugin.js";

/**
 * The worker threads' JavaScript entries (query workers, the writer, action workers). Worker threads need a JavaScript file, while the
 * engine is TypeScript run by vitest (tests) or bundled into `dist/cli.mjs` (the CLI), so
 * both find the TypeScript entry in the package and bundle it with esbuild once,
 * into `node_modules/.cache/convex-local/`, named by a digest of the engine's source
 * files (path, size, mtime): a process that finds the file starts its workers at once,
 * and an edited engine gets a fresh build. npm packages stay external and resolve from
 * the repository's `node_modules` (the file lives below it), except `convex`: it is
 * bundled in with its syscall module substituted (`convex-shim/`), so functions on these
 * threads pass values, not JSON text, to the engine.
 */

const ENTRIES = {
  query: path.join("src", "runtime", "query-workers", "query-worker-main.ts"),
  writer: path.join("src", "runtime", "writer", "writer-main.ts"),
  action: path.join("src", "runtime", "action-workers", "action-worker-main.ts"),
};
const ENTRY = ENTRIES.query;

/** The worker programs. */
export type WorkerProgram = keyof typeof ENTRIES;

let built: Promise<string> | null = null;

/** The path of a built worker entry (both are built on first use in this process). */
export async function workerScript(program: WorkerProgram): Promise<string> {
  built ??= build().catch((e: unknown) => {
    built = null;
    throw e;
  });
  return path.join(await built, `${program}.mjs`);
}

/** Builds both entries into one folder named by the sources' digest; returns the folder. */
async function build(): Promise<string> {
  const root = repositoryRoot();
  const digest = createHash("sha256").update(process.version);
  sourceDigest(path.join(root, "src"), digest);
  // The bundled `convex` is part of the build too.
  digest.update(readFileSync(path.join(convexPackageDir(), "package.json")));
  const outDir = path.join(root, "node_modules", ".cache", "convex-local");
  const outfile = path.join(outDir, `workers-${digest.digest("hex").slice(0, 16)}`);
  if (existsSync(outfile)) return outfile;
  mkdirSync(outDir, { recursive: true });
  // Built under a temporary name and renamed: processes starting at once never load half a build.
  const tmp = `${outfile}.${process.pid}.${Date.now()}.tmp`;
  await esbuild.build({
    entryPoints: Object.entries(ENTRIES).map(([out, entry]) => ({ in: path.join(root, entry), out })),
    outdir: tmp,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    plugins: [convexShimPlugin(root)],
    // No source map: parsing one costs every worker's start more than its stack traces are worth.
    sourcemap: false,
    logLevel: "warning",
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  try {
    renameSync(tmp, outfile);
  } catch (e) {
    // Another process renamed its identical build into place first.
    if (!existsSync(outfile)) throw e;
    rmSync(tmp, { recursive: true, force: true });
  }
  removeStaleBuilds(outDir, outfile);
  return outfile;
}

/** Builds of other engine versions, once a day old, go (a process may still be starting one that is younger). */
function removeStaleBuilds(outDir: string, keep: string): void {
  const dayAgo = Date.now() - 24 * 3600_000;
  for (const name of readdirSync(outDir)) {
    const full = path.join(outDir, name);
    if (full === keep || !name.startsWith("workers-")) continue;
    try {
      if (statSync(full).mtimeMs < dayAgo) rmSync(full, { recursive: true, force: true });
    } catch {
      // Another process removed it first.
    }
  }
}

/** The package folder holding `src/…/query-worker-main.ts`, searched upwards from this module (source or dist/). */
function repositoryRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, ENTRY))) return dir;
    const parent = path.dirname(dir);
    // Bundled outside the package (the repository's benchmarks build into dist/): found through the package's name.
    if (parent === dir) return path.dirname(createRequire(import.meta.url).resolve("convex-local/package.json"));
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
