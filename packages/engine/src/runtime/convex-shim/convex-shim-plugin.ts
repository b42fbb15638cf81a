import { createRequire } from "node:module";
import path from "node:path";
import type * as esbuild from "esbuild";

/**
 * The esbuild plugin that gives the engine's worker threads a `convex` package speaking
 * values instead of JSON text across the syscall boundary (`syscall.ts` beside it says
 * what changes). The official package stays unmodified on disk: its ESM build is bundled
 * into the workers' entries (instead of staying external) with its one module that calls
 * the `Convex` global, `server/impl/syscall.js`, resolved to `syscall.ts`. One copy of
 * `convex` then serves both the engine's code in the worker and the app's functions
 * (`app-loader.ts` hands the app the engine's `convex/server` and `convex/values`), so
 * class checks such as `instanceof CommitTsPlaceholder` keep working across them.
 */

/** The installed package's folder. */
export function convexPackageDir(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve("convex/package.json"));
}

/** The upstream module `syscall.ts` replaces. */
export function upstreamSyscallModule(): string {
  return path.join(convexPackageDir(), "dist", "esm", "server", "impl", "syscall.js");
}

/** The module that replaces it, in the package at `root` (the engine may run from a bundle elsewhere). */
export function shimSyscallModule(root: string): string {
  return path.join(root, "src", "runtime", "convex-shim", "syscall.ts");
}

/** Entry points of the package the engine imports, in its ESM build. */
const ENTRIES: Record<string, string> = {
  convex: "index.js",
  "convex/server": path.join("server", "index.js"),
  "convex/values": path.join("values", "index.js"),
};

export function convexShimPlugin(root: string): esbuild.Plugin {
  const shimModule = shimSyscallModule(root);
  return {
    name: "convex-value-syscalls",
    setup(build) {
      const esm = path.join(convexPackageDir(), "dist", "esm");
      const upstream = upstreamSyscallModule();
      build.onResolve({ filter: /^convex(\/server|\/values)?$/ }, (args) => ({ path: path.join(esm, ENTRIES[args.path]!) }));
      build.onResolve({ filter: /(^|\/)syscall\.js$/ }, (args) =>
        path.resolve(args.resolveDir, args.path) === upstream ? { path: shimModule } : undefined,
      );
    },
  };
}
