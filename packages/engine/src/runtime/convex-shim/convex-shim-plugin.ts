import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import type * as esbuild from "esbuild";

/**
 * The esbuild plugin that gives the engine's worker threads a `convex` package speaking
 * values instead of JSON text across the syscall boundary, with a cheaper query builder.
 * The official package stays unmodified on disk: its ESM build is bundled into the
 * workers' entries (instead of staying external) with
 * * its one module that calls the `Convex` global, `server/impl/syscall.js`, resolved to
 *   `syscall.ts` (which says what changes);
 * * the one line of `registration_impl.js` that encodes results routed through
 *   `Convex.encodeResult` (`RESULT_ENCODING`), the one line of `database_impl.js` that
 *   copies `db.get`'s document made by a cheaper equivalent (`GET_DECODING`), and the
 *   async functions of `db.get` and `storage.getUrl` that only await another promise made
 *   to return it (`READER_GET`, `GET_FUNCTION`, `STORAGE_GET_URL`);
 * * the query builder's modules replaced by ones with the same behaviour that cost less
 *   (`SUBSTITUTES`, each pinned to the exact upstream text it was written against).
 * One copy of `convex` then serves both the engine's code in the worker and the app's
 * functions (`app-loader.ts` hands the app the engine's `convex/server` and
 * `convex/values`), so class checks such as `instanceof CommitTsPlaceholder` keep working
 * across them. docs/architecture.md ("Syscall protocol", "Query builder on the workers")
 * says how each stays in step with upstream.
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
 * by `Convex.encodeResult` when the engine offers it. The engine gets the return value
 * itself and upstream's `convexToJson` (`values/result-json.ts` converts with the same
 * checks in one cheaper walk, and leaves upstream's function every case it does not take,
 * errors included), and keeps the JSON value for Convex's limits and the `returns`
 * validator instead of parsing the text again. `convex-shim.test.ts` fails when
 * upstream's line changes.
 */
export const RESULT_ENCODING = {
  upstream: "return JSON.stringify(convexToJson(result === void 0 ? null : result));",
  substitute:
    "return typeof Convex !== \"undefined\" && Convex.encodeResult !== void 0 ? Convex.encodeResult(result === void 0 ? null : result, convexToJson) : JSON.stringify(convexToJson(result === void 0 ? null : result));",
} as const;

/** Upstream's registration module with its result encoding made the engine's (see `RESULT_ENCODING`). */
export function registrationModuleText(upstreamText: string): string {
  if (!upstreamText.includes(RESULT_ENCODING.upstream)) {
    throw new Error(`convex's ${path.basename(upstreamRegistrationModule())} no longer encodes results as the worker build expects: review convex-shim-plugin.ts`);
  }
  return upstreamText.split(RESULT_ENCODING.upstream).join(RESULT_ENCODING.substitute);
}

/** The upstream module whose `db.get` copies the document it reads (`GET_DECODING` below). */
export function upstreamDatabaseModule(): string {
  return upstreamModule("server/impl/database_impl.js");
}

/**
 * How upstream's `db.get` copies the document the engine answers, and what the workers'
 * build makes of it: the same copy by `document-values.ts` (upstream's `jsonToConvex`,
 * cheaper). `convex-shim.test.ts` fails when upstream's lines change.
 */
export const GET_DECODING = {
  upstream: 'const syscallJSON = await performAsyncSyscall("1.0/get", args);\n  return jsonToConvex(syscallJSON);',
  substitute: 'return performAsyncSyscall("1.0/get", args).then(documentToConvex);',
} as const;

/**
 * Upstream's `get` behind `db.get` is an async function that checks its arguments and
 * awaits the syscall (`GET_DECODING` is its last two lines); the workers' build makes it a
 * plain function that returns the syscall's promise, the copy made in its `then`, and a
 * failed check as a rejected promise, as the async function's own promise would have
 * ended: one async function and one await fewer per `db.get` (a feed run reads each
 * post's author). `performAsyncSyscall` (`syscall.ts`) never throws. `convex-shim.test.ts`
 * fails when upstream's lines change, and runs both on the same calls.
 */
export const GET_FUNCTION = {
  upstream: 'async function get(table, id, isSystem) {\n  validateArg(id, 1, "get", "id");',
  substitute:
    'function get(table, id, isSystem) {\n  try {\n    return getChecked(table, id, isSystem);\n  } catch (e) {\n    return Promise.reject(e);\n  }\n}\nfunction getChecked(table, id, isSystem) {\n  validateArg(id, 1, "get", "id");',
} as const;

/**
 * Upstream's `ctx.db.get` is an async arrow that awaits the async `get` it calls; the
 * workers' build returns that promise instead (`get` is an async function, so it never
 * throws synchronously: the same outcome, one async function fewer per call).
 * `convex-shim.test.ts` fails when upstream's lines change.
 */
export const READER_GET = {
  upstream:
    "get: async (arg0, arg1) => {\n        return arg1 !== void 0 ? await get(arg0, arg1, isSystem) : await get(void 0, arg0, isSystem);\n      },",
  substitute: "get: (arg0, arg1) => {\n        return arg1 !== void 0 ? get(arg0, arg1, isSystem) : get(void 0, arg0, isSystem);\n      },",
} as const;

/** Upstream's database module with `db.get`'s copy made by `documentValues` (the path of `document-values.ts`) and its reader's `get` as `READER_GET` says. */
export function databaseModuleText(upstreamText: string, documentValues: string): string {
  if (
    upstreamText.split(GET_DECODING.upstream).length !== 2 ||
    upstreamText.split(READER_GET.upstream).length !== 2 ||
    upstreamText.split(GET_FUNCTION.upstream).length !== 2
  ) {
    throw new Error(`convex's ${path.basename(upstreamDatabaseModule())} no longer reads documents as the worker build expects: review convex-shim-plugin.ts`);
  }
  const importLine = `import { documentToConvex } from ${JSON.stringify(documentValues)};\n`;
  return (
    importLine +
    upstreamText
      .split(GET_DECODING.upstream)
      .join(GET_DECODING.substitute)
      .split(READER_GET.upstream)
      .join(READER_GET.substitute)
      .split(GET_FUNCTION.upstream)
      .join(GET_FUNCTION.substitute)
  );
}

/** The upstream module of `ctx.storage` (`STORAGE_GET_URL` below). */
export function upstreamStorageModule(): string {
  return upstreamModule("server/impl/storage_impl.js");
}

/**
 * Upstream's `ctx.storage.getUrl` is an async arrow that checks its argument and awaits
 * the syscall; the workers' build returns the syscall's promise, and a failed check as a
 * rejected promise, as the async arrow's own promise would have ended: one async function
 * fewer per call (a feed run asks for a few URLs per post). `convex-shim.test.ts` fails
 * when upstream's lines change, and runs both on the same calls.
 */
export const STORAGE_GET_URL = {
  upstream:
    'getUrl: async (storageId) => {\n      validateArg(storageId, 1, "getUrl", "storageId");\n      return await performAsyncSyscall("1.0/storageGetUrl", {',
  substitute:
    'getUrl: (storageId) => {\n      try {\n        validateArg(storageId, 1, "getUrl", "storageId");\n      } catch (e) {\n        return Promise.reject(e);\n      }\n      return performAsyncSyscall("1.0/storageGetUrl", {',
} as const;

/** Upstream's storage module with `getUrl` as `STORAGE_GET_URL` says. */
export function storageModuleText(upstreamText: string): string {
  if (upstreamText.split(STORAGE_GET_URL.upstream).length !== 2) {
    throw new Error(`convex's ${path.basename(upstreamStorageModule())} no longer makes file URLs as the worker build expects: review convex-shim-plugin.ts`);
  }
  return upstreamText.split(STORAGE_GET_URL.upstream).join(STORAGE_GET_URL.substitute);
}

/** The module that replaces it, in the package at `root` (the engine may run from a bundle elsewhere). */
export function shimSyscallModule(root: string): string {
  return substituteModule(root, "syscall.ts");
}

function substituteModule(root: string, file: string): string {
  return path.join(root, "src", "runtime", "convex-shim", file);
}

/**
 * Upstream modules replaced whole in the workers' build, each by a module of this folder
 * written against upstream's text of that version (its SHA-256 here). How they stay in
 * step: the build refuses to run when the installed text differs (an upgrade of `convex`
 * changed it), and `convex-shim.test.ts` fails with it, naming the module; whoever
 * upgrades reads upstream's diff, carries it into the substitute, and pins the new digest.
 * The substitutes' behaviour is checked against upstream's own module, run side by side
 * on the same calls, in `convex-shim-query.test.ts`.
 */
export const SUBSTITUTES = [
  {
    upstream: "server/impl/query_impl.js",
    substitute: "query-impl.ts",
    sha256: "cb338c5d58d0ffbbdd311954e24456d7fa501f901b205784ce93d67e63206857",
  },
  {
    upstream: "server/impl/index_range_builder_impl.js",
    substitute: "index-range-builder.ts",
    sha256: "ff65a69a8da7540705ee68146d4dd03197528b310fee319e6438c061238286ac",
  },
] as const;

/** The installed text of an upstream module (a path below `dist/esm`). */
export function upstreamModule(relative: string): string {
  return path.join(convexPackageDir(), "dist", "esm", ...relative.split("/"));
}

/** The substitutes whose upstream text is no longer the one they were written against (empty when all match). */
export function staleSubstitutes(): string[] {
  return SUBSTITUTES.filter(
    (s) => createHash("sha256").update(readFileSync(upstreamModule(s.upstream))).digest("hex") !== s.sha256,
  ).map((s) => s.upstream);
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
      const stale = staleSubstitutes();
      if (stale.length > 0) {
        throw new Error(`convex's ${stale.join(", ")} changed since the worker build's substitutes were written: review convex-shim-plugin.ts`);
      }
      const replaced = new Map(SUBSTITUTES.map((s) => [upstreamModule(s.upstream), substituteModule(root, s.substitute)]));
      build.onResolve({ filter: /_impl\.js$/ }, (args) => {
        const substitute = replaced.get(path.resolve(args.resolveDir, args.path));
        return substitute === undefined ? undefined : { path: substitute };
      });
      // The substitutes' own imports of upstream modules they keep (typed in `upstream-modules.d.ts`).
      build.onResolve({ filter: /^convex-upstream:/ }, (args) => ({ path: path.join(esm, args.path.slice("convex-upstream:".length)) }));
      build.onResolve({ filter: /(^|\/)syscall\.js$/ }, (args) =>
        path.resolve(args.resolveDir, args.path) === upstream ? { path: shimModule } : undefined,
      );
      const registration = upstreamRegistrationModule();
      build.onLoad({ filter: /registration_impl\.js$/ }, async (args) =>
        args.path === registration ? { contents: registrationModuleText(await readFile(registration, "utf8")), loader: "js" } : undefined,
      );
      const database = upstreamDatabaseModule();
      const documentValues = substituteModule(root, "document-values.ts");
      build.onLoad({ filter: /database_impl\.js$/ }, async (args) =>
        args.path === database ? { contents: databaseModuleText(await readFile(database, "utf8"), documentValues), loader: "js" } : undefined,
      );
      const storage = upstreamStorageModule();
      build.onLoad({ filter: /storage_impl\.js$/ }, async (args) =>
        args.path === storage ? { contents: storageModuleText(await readFile(storage, "utf8")), loader: "js" } : undefined,
      );
    },
  };
}
