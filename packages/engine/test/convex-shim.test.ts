import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { expect, test } from "vitest";
import * as shim from "../src/runtime/convex-shim/syscall";
import { asyncSyscallError } from "../src/runtime/convex-shim/syscall-errors";
import {
  convexPackageDir,
  databaseModuleText,
  READER_GET,
  STORAGE_GET_URL,
  storageModuleText,
  upstreamStorageModule,
  GET_DECODING,
  GET_FUNCTION,
  RESULT_ENCODING,
  registrationModuleText,
  staleSubstitutes,
  SUBSTITUTES,
  upstreamDatabaseModule,
  upstreamRegistrationModule,
  upstreamSyscallModule,
} from "../src/runtime/convex-shim/convex-shim-plugin";
import { workerScript } from "../src/runtime/worker-script";

/**
 * The worker threads run the official `convex` package with a few modules substituted at
 * bundle time (`engine/runtime/convex-shim/`). These checks fail when an upgrade of
 * `convex` changes what a substitute replaces, so the substitute is reviewed with the
 * upgrade instead of silently drifting from what the rest of the package expects. The
 * query builder's substitutes are checked call for call against upstream's module in
 * `convex-shim-query.test.ts`.
 */

const upstreamText = () => readFileSync(upstreamSyscallModule(), "utf8");

test("the substitute exports exactly what upstream's syscall.js exports", async () => {
  const upstream = (await import(pathToFileURL(upstreamSyscallModule()).href)) as Record<string, unknown>;
  expect(Object.keys(shim).sort()).toEqual(Object.keys(upstream).sort());
  for (const name of Object.keys(upstream)) expect(typeof (shim as Record<string, unknown>)[name]).toBe(typeof upstream[name]);
});

test("upstream's syscall.js makes the three text-protocol calls the substitute replaces, and no other", () => {
  const calls = [...upstreamText().matchAll(/Convex\.(\w+)\((.*)\);/g)].map((m) => `${m[1]}(${m[2]})`).sort();
  expect(calls).toEqual(["asyncSyscall(op, JSON.stringify(arg))", "jsSyscall(op, arg)", "syscall(op, JSON.stringify(arg))"]);
});

test("every name the package imports from syscall.js is one the substitute exports", () => {
  const server = path.join(convexPackageDir(), "dist", "esm", "server");
  const imported = new Set<string>();
  const importers: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith(".js")) {
        for (const m of readFileSync(full, "utf8").matchAll(/import\s*\{([^}]*)\}\s*from\s*"([^"]*syscall\.js)"/g)) {
          if (path.resolve(dir, m[2]!) !== upstreamSyscallModule()) continue;
          importers.push(path.relative(server, full));
          for (const name of m[1]!.split(",")) imported.add(name.trim());
        }
      }
    }
  };
  walk(server);
  expect(importers.length).toBeGreaterThan(5);
  expect([...imported].every((name) => name in shim)).toBe(true);
});

test("the worker threads' build carries the substitute, not upstream's module", async () => {
  for (const program of ["query", "writer"] as const) {
    const text = readFileSync(await workerScript(program), "utf8");
    expect(text.match(/function performSyscall\(/g)).toHaveLength(1);
    expect(text).toContain("Convex.syscallValue(op, arg)");
    // One copy of `convex/values` in the thread: the engine's code and the app's functions share its classes.
    expect(text.match(/var CommitTsPlaceholder = class/g) ?? text.match(/class CommitTsPlaceholder/g)).toHaveLength(1);
  }
});

test("upstream's text protocol still answers where the engine offers no value protocol", async () => {
  const calls: string[] = [];
  const previous = globalThis.Convex;
  globalThis.Convex = {
    syscall: (op, argsJson) => (calls.push(`${op} ${argsJson}`), '{"queryId":7}'),
    asyncSyscall: (op, argsJson) => (calls.push(`${op} ${argsJson}`), Promise.reject({ message: "boom", data: { $integer: "AQAAAAAAAAA=" } })),
    jsSyscall: () => null,
  };
  try {
    expect(shim.performSyscall("1.0/queryStream", { query: { a: 1 } })).toEqual({ queryId: 7 });
    const failure = await shim.performAsyncSyscall("1.0/get", { id: "x" }).catch((e: unknown) => e);
    expect(failure).toMatchObject({ name: "ConvexError", data: 1n });
    expect(calls).toEqual(['1.0/queryStream {"query":{"a":1}}', '1.0/get {"id":"x"}']);
  } finally {
    globalThis.Convex = previous;
  }
});

test("performAsyncSyscall settles as upstream's does, by both protocols: a promise every time, never a synchronous throw", async () => {
  // The substitute is no async function (a few hundred calls per feed run): each way
  // upstream's call can end is run through upstream's module and the substitute side by side.
  const upstream = (await import(pathToFileURL(upstreamSyscallModule()).href)) as typeof shim;
  const settled = (call: () => Promise<unknown>) => {
    let promise: Promise<unknown>;
    try {
      promise = call();
    } catch (e) {
      return Promise.resolve({ threwSynchronously: e });
    }
    return promise.then(
      (value) => ({ value }),
      (e: { name?: string; message?: string; data?: unknown }) => ({ name: e.name, message: e.message, data: e.data, isError: e instanceof Error }),
    );
  };
  const answers: Record<string, (argsJson: string) => Promise<string>> = {
    succeeds: (argsJson) => Promise.resolve(`{"echo":${argsJson}}`),
    "rejects with data": () => Promise.reject({ message: "boom", data: { $integer: "AQAAAAAAAAA=" } }),
    "rejects without data": () => Promise.reject({ message: "plain" }),
    "throws synchronously": () => {
      throw { message: "at once" };
    },
  };
  const previous = globalThis.Convex;
  try {
    globalThis.Convex = undefined as never;
    const outside = await settled(() => upstream.performAsyncSyscall("1.0/get", {}));
    expect(outside).toMatchObject({ message: expect.stringMatching(/outside of a Convex backend/) });
    expect(await settled(() => shim.performAsyncSyscall("1.0/get", {}))).toEqual(outside);
    for (const [name, answer] of Object.entries(answers)) {
      globalThis.Convex = { syscall: () => "null", asyncSyscall: (_op, argsJson) => answer(argsJson), jsSyscall: () => null };
      const expected = await settled(() => upstream.performAsyncSyscall("1.0/get", { id: "x" }));
      expect.soft(await settled(() => shim.performAsyncSyscall("1.0/get", { id: "x" })), `text protocol: ${name}`).toEqual(expected);
      globalThis.Convex = {
        ...globalThis.Convex,
        asyncSyscallValue: (_op, args) => answer(JSON.stringify(args)).then((text) => JSON.parse(text) as never),
      };
      expect.soft(await settled(() => shim.performAsyncSyscall("1.0/get", { id: "x" })), `value protocol: ${name}`).toEqual(expected);
      // A query worker's global maps failures itself (`asyncSyscallSettled`): the substitute passes its promise on.
      globalThis.Convex = {
        ...globalThis.Convex,
        asyncSyscallSettled: (_op, args) =>
          answer(JSON.stringify(args)).then(
            (text) => JSON.parse(text) as never,
            (e: unknown) => Promise.reject(asyncSyscallError(e)),
          ),
      };
      expect.soft(await settled(() => shim.performAsyncSyscall("1.0/get", { id: "x" })), `settled protocol: ${name}`).toEqual(expected);
    }
  } finally {
    globalThis.Convex = previous;
  }
});

test("upstream's function wrappers encode results on the one line the workers' build routes through Convex.encodeResult", () => {
  const upstream = readFileSync(upstreamRegistrationModule(), "utf8");
  // Query, mutation and action wrappers; no other place turns a result into text.
  expect(upstream.split(RESULT_ENCODING.upstream)).toHaveLength(4);
  expect(upstream.match(/JSON\.stringify\(convexToJson\(/g)).toHaveLength(3);
  const rewritten = registrationModuleText(upstream);
  expect(rewritten).not.toContain(RESULT_ENCODING.upstream);
  expect(rewritten.split(RESULT_ENCODING.substitute)).toHaveLength(4);
  expect(() => registrationModuleText(upstream.split(RESULT_ENCODING.upstream).join("return JSON.stringify(result);"))).toThrow(/review convex-shim-plugin/);
});

test("the query worker's build encodes function results through Convex.encodeResult", async () => {
  const text = readFileSync(await workerScript("query"), "utf8");
  expect(text).not.toContain(RESULT_ENCODING.upstream);
  expect(text.match(/Convex\.encodeResult\(result === void 0 \? null : result, convexToJson\)/g)).toHaveLength(3);
});

test("the query builder's substitutes were written against the installed upstream text, byte for byte", () => {
  // On failure: read upstream's diff for the named modules, carry it into the substitutes,
  // then pin the new SHA-256 in SUBSTITUTES (convex-shim-plugin.ts).
  expect(staleSubstitutes()).toEqual([]);
  expect(SUBSTITUTES.map((s) => s.upstream).sort()).toEqual(["server/impl/index_range_builder_impl.js", "server/impl/query_impl.js"]);
});

test("the worker threads' build carries the query builder's substitutes, not upstream's", async () => {
  for (const program of ["query", "writer"] as const) {
    const text = readFileSync(await workerScript(program), "utf8");
    expect(text).toContain('"engine/queryStreamRest"');
    // Upstream's classes define their fields through esbuild's helper; the substitutes do not.
    expect(text).not.toContain('__publicField(this, "tableNameForErrorMessages")');
    expect(text).not.toContain('__publicField(this, "rangeExpressions")');
    expect(text.match(/class QueryImpl\b|var QueryImpl = class/g)).toHaveLength(1);
  }
});

test("upstream's db.get copies its document on the one line the workers' build routes through document-values.ts", async () => {
  const upstream = readFileSync(upstreamDatabaseModule(), "utf8");
  expect(upstream.split(GET_DECODING.upstream)).toHaveLength(2);
  expect(() => databaseModuleText(upstream.replace(GET_DECODING.upstream, "return null;"), "x")).toThrow(/review convex-shim-plugin/);
  for (const program of ["query", "writer"] as const) {
    const text = readFileSync(await workerScript(program), "utf8");
    expect(text).toContain('return performAsyncSyscall("1.0/get", args).then(documentToConvex);');
    expect(text).not.toContain(GET_DECODING.upstream);
  }
});

test("upstream's db.get and storage.getUrl are async functions the workers' build makes return their promise, on the lines it expects", async () => {
  const database = readFileSync(upstreamDatabaseModule(), "utf8");
  const storage = readFileSync(upstreamStorageModule(), "utf8");
  expect(database.split(READER_GET.upstream)).toHaveLength(2);
  expect(database.split(GET_FUNCTION.upstream)).toHaveLength(2);
  expect(storage.split(STORAGE_GET_URL.upstream)).toHaveLength(2);
  expect(() => databaseModuleText(database.replace(READER_GET.upstream, "get: null,"), "x")).toThrow(/review convex-shim-plugin/);
  expect(() => databaseModuleText(database.replace(GET_FUNCTION.upstream, "function get() {"), "x")).toThrow(/review convex-shim-plugin/);
  expect(() => storageModuleText(storage.replace(STORAGE_GET_URL.upstream, "getUrl: null,"))).toThrow(/review convex-shim-plugin/);
  for (const program of ["query", "writer"] as const) {
    const text = readFileSync(await workerScript(program), "utf8");
    // The whole upstream lines (one of these bundles carries the plugin, whose constants hold them with escaped line ends).
    expect(text).not.toContain(READER_GET.upstream);
    expect(text).not.toContain(GET_FUNCTION.upstream);
    expect(text).not.toContain(STORAGE_GET_URL.upstream);
    expect(text).toContain('return performAsyncSyscall("1.0/storageGetUrl"');
  }
});

test("db.get and storage.getUrl as the workers' build rewrites them settle as upstream's on the same calls", async () => {
  // The rewritten modules run from a folder of their own, their imports pointed at upstream's.
  const impl = path.dirname(upstreamStorageModule());
  const dir = mkdtempSync(path.join(tmpdir(), "convex-shim-"));
  const load = async (name: string, text: string) => {
    const absolute = text
      .replace(/^\/\/# sourceMappingURL=.*$/m, "")
      .replace(/from "\.\//g, `from "${pathToFileURL(impl).href}/`)
      .replace(/from "\.\.\/\.\.\//g, `from "${pathToFileURL(path.join(impl, "..", "..")).href}/`);
    writeFileSync(path.join(dir, name), absolute);
    return (await import(pathToFileURL(path.join(dir, name)).href)) as Record<string, (...a: unknown[]) => Record<string, (...a: unknown[]) => Promise<unknown>>>;
  };
  const database = readFileSync(upstreamDatabaseModule(), "utf8");
  const storage = readFileSync(upstreamStorageModule(), "utf8");
  const sides = {
    upstream: { db: (await import(pathToFileURL(upstreamDatabaseModule()).href)).setupReader(), storage: (await import(pathToFileURL(upstreamStorageModule()).href)).setupStorageReader("r") },
    rewritten: {
      // As `databaseModuleText` rewrites it, with upstream's copy (`documentToConvex` makes the same one; document-values.test).
      db: (
        await load(
          "database_impl.mjs",
          database
            .split(READER_GET.upstream)
            .join(READER_GET.substitute)
            .split(GET_FUNCTION.upstream)
            .join(GET_FUNCTION.substitute)
            .split(GET_DECODING.upstream)
            .join(GET_DECODING.substitute.replace("documentToConvex", "jsonToConvex")),
        )
      ).setupReader!(),
      storage: (await load("storage_impl.mjs", storageModuleText(storage))).setupStorageReader!("r"),
    },
  };
  const settled = (call: () => Promise<unknown>) => {
    let promise: Promise<unknown>;
    try {
      promise = call();
    } catch (e) {
      return Promise.resolve({ threwSynchronously: String(e) });
    }
    return promise.then(
      (value) => ({ value }),
      (e: { name?: string; message?: string; data?: unknown }) => ({ name: e.name, message: e.message, data: e.data }),
    );
  };
  const previous = globalThis.Convex;
  const calls: string[] = [];
  globalThis.Convex = {
    syscall: () => "null",
    asyncSyscall: (op, argsJson) => {
      calls.push(`${op} ${argsJson}`);
      const id = (JSON.parse(argsJson) as { id?: string; storageId?: string }).id ?? (JSON.parse(argsJson) as { storageId?: string }).storageId;
      if (id === "gone") return Promise.resolve("null");
      if (id === "fails") return Promise.reject({ message: "boom", data: "why" });
      return Promise.resolve(op === "1.0/get" ? `{"_id":${JSON.stringify(id)},"n":{"$integer":"AQAAAAAAAAA="}}` : '"https://files/x"');
    },
    jsSyscall: () => null,
  };
  try {
    for (const args of [["abc"], ["users", "abc"], ["gone"], ["fails"], [undefined], [42]]) {
      calls.length = 0;
      const expected = { get: await settled(() => sides.upstream.db.get!(...args)), getUrl: await settled(() => sides.upstream.storage.getUrl!(...args)) };
      const upstreamCalls = [...calls];
      calls.length = 0;
      const actual = { get: await settled(() => sides.rewritten.db.get!(...args)), getUrl: await settled(() => sides.rewritten.storage.getUrl!(...args)) };
      expect.soft(actual, JSON.stringify(args)).toEqual(expected);
      expect.soft(calls, JSON.stringify(args)).toEqual(upstreamCalls);
    }
  } finally {
    globalThis.Convex = previous;
    rmSync(dir, { recursive: true, force: true });
  }
});
