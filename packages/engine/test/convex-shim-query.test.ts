import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import * as esbuild from "esbuild";
import { afterAll, beforeAll, expect, test } from "vitest";
import { convexShimPlugin, upstreamModule } from "../src/runtime/convex-shim/convex-shim-plugin";

/**
 * The worker threads' query builder (`convex-shim/query-impl.ts`, `index-range-builder.ts`)
 * against upstream's own `query_impl.js`, run side by side on the same calls over the same
 * fake engine: the same results, the same errors (message and class), the same queries
 * sent and the same stream reads in the same order. The fake answers both protocols:
 * upstream speaks text (`Convex.syscall`), the substitute values, `engine/queryStreamRest`
 * and `engine/queryTake`, which the fake answers as the engine does: by reading the stream
 * as that many `1.0/queryStreamNext` would, and (`queryTake`) opening it first, with a
 * failure of the reading thrown as the engine's `AsyncFailure`.
 */

type Doc = Record<string, unknown>;
type Builder = { withIndex: Function; withSearchIndex: Function; fullTableScan: Function; order: Function; first: Function; take: Function; collect: Function; unique: Function; filter: Function; paginate: Function; count: Function; [Symbol.asyncIterator]: Function };
type Impl = { QueryInitializerImpl: new (table: string) => Builder };

const ROWS: Doc[] = [
  { _id: "i1", _creationTime: 1, x: 1, y: "a", n: { $integer: "AQAAAAAAAAA=" } },
  { _id: "i2", _creationTime: 2, x: 1, y: "b", tags: ["p", "q"] },
  { _id: "i3", _creationTime: 3, x: 2, y: "a", nested: { deep: [1, { k: "v" }] } },
  { _id: "i4", _creationTime: 4, x: 3, y: "c", boom: true },
];

/** A fake engine: streams over ROWS (Eq ranges, order, limits), logging what it is asked. */
function fakeEngine(log: string[]) {
  const streams = new Map<number, Doc[]>();
  let nextId = 1;
  const open = (query: { source: { indexName?: string; range?: { fieldPath: string; value: unknown }[]; order: string | null }; operators: { limit?: number }[] }) => {
    log.push(`open ${JSON.stringify(query)}`);
    // Planning errors are thrown by the opening syscall itself, as the engine's are.
    if (query.source.indexName === "items.by_nothing") throw new TypeError("Index items.by_nothing not found.");
    let rows = ROWS.filter((row) => (query.source.range ?? []).every((e) => JSON.stringify(row[e.fieldPath]) === JSON.stringify(e.value)));
    if (query.source.order === "desc") rows = rows.reverse();
    for (const op of query.operators) if (op.limit !== undefined) rows = rows.slice(0, op.limit);
    const id = nextId++;
    streams.set(id, rows);
    return { queryId: id };
  };
  const next = (queryId: number) => {
    log.push(`next ${queryId}`);
    const rows = streams.get(queryId);
    if (rows === undefined) throw { message: `Query ${queryId} is not open.` };
    const row = rows.shift();
    if (row === undefined) {
      streams.delete(queryId);
      return { value: null, done: true };
    }
    if (row.boom === true) throw { message: `reading ${String(row._id)} failed` };
    // A fresh copy per answer, as the engine's replies are: a caller that changes it changes nothing here.
    return { value: JSON.parse(JSON.stringify(row)), done: false };
  };
  const cleanup = (queryId: number) => {
    if (!streams.delete(queryId)) return false;
    log.push(`cleanup ${queryId}`);
    return true;
  };
  const rest = (queryId: number) => {
    const docs: unknown[] = [];
    for (let item = next(queryId); !item.done; item = next(queryId)) docs.push(item.value);
    return docs;
  };
  const sync = (op: string, args: any): unknown => {
    if (op === "1.0/queryStream") return open(args.query);
    if (op === "engine/queryTake") {
      const { queryId } = open(args.query);
      try {
        return rest(queryId);
      } catch (e) {
        throw { [Symbol.for("convex-local.asyncFailure")]: true, rejection: e };
      }
    }
    if (op === "1.0/queryCleanup") return cleanup(args.queryId);
    throw new Error(`unexpected ${op}`);
  };
  const async = (op: string, args: any): unknown => {
    if (op === "1.0/queryStreamNext") return next(args.queryId);
    if (op === "engine/queryStreamRest") return rest(args.queryId);
    if (op === "1.0/queryPage") return (log.push(`page ${JSON.stringify(args)}`), { page: [ROWS[0]], isDone: true, continueCursor: "c", splitCursor: null, pageStatus: null });
    if (op === "1.0/count") return (log.push(`count ${args.table}`), 4);
    throw new Error(`unexpected ${op}`);
  };
  const settle = (call: () => unknown) => {
    try {
      return Promise.resolve(call());
    } catch (e) {
      return Promise.reject(e);
    }
  };
  return {
    syscall: (op: string, json: string) => JSON.stringify(sync(op, JSON.parse(json))),
    asyncSyscall: (op: string, json: string) => settle(() => JSON.stringify(async(op, JSON.parse(json)))),
    jsSyscall: () => null,
    syscallValue: (op: string, args: unknown) => sync(op, args),
    asyncSyscallValue: (op: string, args: unknown) => settle(() => async(op, args)),
  };
}

let dir: string;
let upstream: Impl;
let substitute: Impl;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "shim-query-"));
  const upstreamPath = upstreamModule("server/impl/query_impl.js");
  upstream = (await import(pathToFileURL(upstreamPath).href)) as Impl;
  // The substitute as the workers get it: upstream's module path, resolved by the plugin.
  const out = path.join(dir, "substitute.mjs");
  await esbuild.build({
    stdin: { contents: `export { QueryInitializerImpl } from ${JSON.stringify(upstreamPath)};`, resolveDir: dir, loader: "js" },
    outfile: out,
    bundle: true,
    platform: "node",
    format: "esm",
    plugins: [convexShimPlugin(path.resolve(__dirname, ".."))],
    logLevel: "error",
  });
  writeFileSync(path.join(dir, "package.json"), "{}");
  substitute = (await import(pathToFileURL(out).href)) as Impl;
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `scenario` on one implementation; its outcome, and what the engine saw. */
async function run(impl: Impl, scenario: (db: (table: string) => Builder) => Promise<unknown>, valueProtocol: boolean) {
  const log: string[] = [];
  const engine = fakeEngine(log);
  const previous = globalThis.Convex;
  globalThis.Convex = (valueProtocol ? engine : { ...engine, syscallValue: undefined, asyncSyscallValue: undefined }) as typeof globalThis.Convex;
  try {
    // Builder errors throw synchronously in both: caught the same way.
    const result = await (async () => scenario((table) => new impl.QueryInitializerImpl(table)))().then(
      (value) => ({ value }),
      (e: Error) => ({ error: `${e.constructor.name}: ${e.message}` }),
    );
    return { result, log };
  } finally {
    globalThis.Convex = previous;
  }
}

const byX = (db: (t: string) => Builder, x: unknown) => db("items").withIndex("by_x", (q: any) => q.eq("x", x));

const SCENARIOS: Record<string, (db: (table: string) => Builder) => Promise<unknown>> = {
  "first() on an index": (db) => byX(db, 1).first(),
  "first() with no row": (db) => byX(db, 9).first(),
  "unique() with one row": (db) => byX(db, 2).unique(),
  "unique() with two rows": (db) => byX(db, 1).unique(),
  "unique() with none": (db) => byX(db, 7).unique(),
  "take(n) in descending order": (db) => db("items").withIndex("by_x").order("desc").take(2),
  "take(0)": (db) => byX(db, 1).take(0),
  "take(-1)": (db) => byX(db, 1).take(-1),
  "take(1.5)": (db) => byX(db, 1).take(1.5),
  "take() without n": (db) => (byX(db, 1).take as Function)(),
  "take(n) up to a failing read": (db) => db("items").withIndex("by_x").take(4),
  "first() of a failing read": (db) => byX(db, 3).first(),
  "take(n) on an index the engine refuses": (db) => db("items").withIndex("by_nothing").take(2),
  "collect() up to a failing read": (db) => db("items").collect(),
  "collect() of a filtered scan": (db) => db("items").filter((q: any) => q.eq(q.field("y"), "a")).take(3),
  "limit then collect": (db) => db("items").fullTableScan().limit(2).collect(),
  "a query collected twice": async (db) => {
    const query = byX(db, 1);
    const first = await query.collect();
    return [first, await query.collect()];
  },
  "a query chained after collect": async (db) => {
    const query = byX(db, 1);
    await query.collect();
    return query.first();
  },
  "a query chained twice": async (db) => {
    const query = db("items").fullTableScan();
    query.filter((q: any) => q.eq(q.field("x"), 1));
    return query.take(1);
  },
  "next() then collect()": async (db) => {
    const query = byX(db, 1) as any;
    const one = await query.next();
    return [one, await query.collect()];
  },
  "for await with break": async (db) => {
    const seen: unknown[] = [];
    for await (const doc of db("items") as any) {
      seen.push(doc);
      if (seen.length === 2) break;
    }
    return seen;
  },
  "next() after a failing collect": async (db) => {
    const query = db("items").withIndex("by_x", (q: any) => q.eq("x", 3)) as any;
    const failure = await query.collect().catch((e: Error) => e.message);
    return [failure, await query.next().catch((e: Error) => e.message)];
  },
  "order twice": async (db) => db("items").order("asc").order("desc"),
  "a range builder used twice": (db) =>
    db("items")
      .withIndex("by_x", (q: any) => {
        q.eq("x", 1);
        return q.eq("y", "a");
      })
      .first(),
  "a range value convex refuses": (db) => db("items").withIndex("by_x", (q: any) => q.eq("x", new Set([1]))).first(),
  "gt and lt ranges": (db) => db("items").withIndex("by_x", (q: any) => q.gt("x", 1).lte("x", 2n)).take(5),
  "withIndex() without a name": (db) => (db("items").withIndex as Function)(),
  "more distinct table and index names than the substitute keeps, then repeated ones": async (db) => {
    const firsts: unknown[] = [];
    for (let i = 0; i < 1_100; i++) firsts.push(await db(`t${i}`).withIndex(`by_${i % 3}`, (q: any) => q.eq("x", 1)).first());
    for (let i = 0; i < 5; i++) firsts.push(await db(`t${i}`).withIndex(`by_${i % 3}`).first(), await db("items").withIndex("by_x").first());
    return firsts;
  },
  paginate: (db) => byX(db, 1).paginate({ numItems: 2, cursor: null }),
  "paginate with a bad size": (db) => byX(db, 1).paginate({ numItems: -1, cursor: null }),
  count: (db) => db("items").count(),
  "order() on a search": (db) => db("items").withSearchIndex("search_y", (q: any) => q.search("y", "a")).order("asc"),
};

for (const [name, scenario] of Object.entries(SCENARIOS)) {
  test(`as upstream: ${name}`, async () => {
    const expected = await run(upstream, scenario, false);
    const actual = await run(substitute, scenario, true);
    expect(actual.result).toEqual(expected.result);
    expect(actual.log).toEqual(expected.log);
    // Without the engine's value protocol the substitute runs upstream's path, call for call.
    const textOnly = await run(substitute, scenario, false);
    expect(textOnly).toEqual(expected);
  });
}

test("documents handed to user code are copies: changing one changes nothing the engine holds", async () => {
  const log: string[] = [];
  const engine = fakeEngine(log);
  const shared = { _id: "s1", x: 1, inner: { list: [1, 2] } };
  const previous = globalThis.Convex;
  globalThis.Convex = {
    ...engine,
    syscallValue: (op: string, args: unknown) => (op === "engine/queryTake" ? [shared] : engine.syscallValue(op, args)),
  } as typeof globalThis.Convex;
  try {
    const [doc] = (await new substitute.QueryInitializerImpl("items").take(1)) as any[];
    doc.inner.list.push(3);
    doc.x = 2;
    expect(shared).toEqual({ _id: "s1", x: 1, inner: { list: [1, 2] } });
  } finally {
    globalThis.Convex = previous;
  }
});

test("a first() is one syscall on the engine's value protocol instead of upstream's four", async () => {
  const count = async (impl: Impl, valueProtocol: boolean) => {
    let calls = 0;
    const engine = fakeEngine([]);
    const counted = Object.fromEntries(
      Object.entries(engine).map(([k, f]) => [k, (...a: unknown[]) => (calls++, (f as Function)(...a))]),
    );
    const previous = globalThis.Convex;
    globalThis.Convex = (valueProtocol ? counted : { ...counted, syscallValue: undefined, asyncSyscallValue: undefined }) as typeof globalThis.Convex;
    try {
      await byX((t) => new impl.QueryInitializerImpl(t), 1).first();
    } finally {
      globalThis.Convex = previous;
    }
    return calls;
  };
  expect(await count(upstream, false)).toBe(4);
  expect(await count(substitute, true)).toBe(1);
});
