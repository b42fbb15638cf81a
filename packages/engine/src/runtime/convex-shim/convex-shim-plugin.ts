import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import type * as esbuild from "esbuild";

/**
 * The esbuild plugin that gives the engine's worker threads a `convex` package speaking
 * values instead of JSON text across the syscall boundary (`syscall.ts` beside it says
 * what changes). The official package stays unmodified on disk: its ESM build is bundled
 * into the workers' entries (instead of staying external) with its one module that calls
 * the `Convex` global, `server/impl/syscall.js`, resolved to `syscall.ts`, and the one line
 * of `registration_impl.js` that encodes results routed through `Convex.encodeResult`
 * (`RESULT_ENCODING`). One copy of
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

/** The upstream module whose function wrappers encode results (`RESULT_ENCODING` below). */
export function upstreamRegistrationModule(): string {
  return path.join(convexPackageDir(), "dist", "esm", "server", "impl", "registration_impl.js");
}

/**
 * How upstream's query, mutation and action wrappers turn a function's return value into
 * the text they hand back, and what the workers' build makes of it: the same text, made
 * by `Convex.encodeResult` when the engine offers it, so that the engine also gets the
 * JSON value and checks Convex's limits and the `returns` validator on it instead of
 * parsing the text again. `convex-shim.test.ts` fails when upstream's line changes.
 */
export const RESULT_ENCODING = {
  upstream: "return JSON.stringify(convexToJson(result === void 0 ? null : result));",
  substitute:
    "return ((json) => typeof Convex !== \"undefined\" && Convex.encodeResult !== void 0 ? Convex.encodeResult(json) : JSON.stringify(json))(convexToJson(result === void 0 ? null : result));",
} as const;

/** Upstream's registration module with its result encoding made the engine's (see `RESULT_ENCODING`). */
export function registrationModuleText(upstreamText: string): string {
  if (!upstreamText.includes(RESULT_ENCODING.upstream)) {
    throw new Error(`convex's ${path.basename(upstreamRegistrationModule())} no longer encodes results as the worker build expects: review convex-shim-plugin.ts`);
  }
  return upstreamText.split(RESULT_ENCODING.upstream).join(RESULT_ENCODING.substitute);
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
      const registration = upstreamRegistrationModule();
      build.onLoad({ filter: /registration_impl\.js$/ }, async (args) =>
        args.path === registration ? { contents: registrationModuleText(await readFile(registration, "utf8")), loader: "js" } : undefined,
      );
    },
  };
}
