import { compareValues, convexToJson, type JSONValue, type Value } from "convex/values";
import { beforeEach, describe, expect, test } from "vitest";
import { isEngineError } from "../src/errors";
import { openQueryStream } from "../src/query/query-stream";
import { createReadSetRecorder } from "../src/query/read-set";
import type { QueryOperator, SerializedQuery } from "../src/query/serialized-query";
import type { Store } from "../src/store/store";
import { collect, tableScan, UNDEFINED } from "./helpers/query-json";
import { inTransaction, openTestStore } from "./helpers/temp-store";

const field = (path: string) => ({ $field: path });
const lit = (value: Value | undefined): JSONValue => ({ $literal: value === undefined ? UNDEFINED : convexToJson(value) });
const filter = (expression: JSONValue): QueryOperator => ({ filter: expression });

// One document per kind of value of `x`, plus one without `x`, in insertion order.
const X_VALUES: (Value | undefined)[] = [undefined, null, 1n, 2n, -1.5, 2, NaN, false, true, "", "a", "b", [1], { k: 1 }];

let store: Store;
beforeEach(() => {
  ({ store } = openTestStore());
  inTransaction(store, () => {
    X_VALUES.forEach((x, i) => store.insert("things", x === undefined ? { i } : { i, x, nested: { x } }));
  });
});

const scan = (operators: QueryOperator[], order: "asc" | "desc" | null = null) =>
  collect(store, tableScan("things", order, operators)).map((d) => d.i as number);

function failure(query: SerializedQuery): string {
  try {
    const stream = openQueryStream(store, query, createReadSetRecorder());
    while (stream.next() !== null);
  } catch (e) {
    if (isEngineError(e)) return `${e.code}: ${e.message}`;
    throw e;
  }
  return "no error";
}

describe("filters", () => {
  test.each([
    ["$eq", (c: number) => c === 0],
    ["$neq", (c: number) => c !== 0],
    ["$lt", (c: number) => c < 0],
    ["$lte", (c: number) => c <= 0],
    ["$gt", (c: number) => c > 0],
    ["$gte", (c: number) => c >= 0],
  ])("%s compares across types by the total order of values", (op, test) => {
    for (const pivot of [undefined, null, 2n, 2, NaN, true, "a", [1], { k: 0 }]) {
      const expected = X_VALUES.flatMap((x, i) => (test(compareValues(x, pivot)) ? [i] : []));
      expect(scan([filter({ [op]: [field("x"), lit(pivot)] })]), `${op} ${String(pivot)}`).toEqual(expected);
    }
  });

  test("nested field paths, and literals on either side", () => {
    expect(scan([filter({ $eq: [field("nested.x"), lit("a")] })])).toEqual([10]);
    expect(scan([filter({ $gt: [lit(1n), field("x")] })])).toEqual([0, 1]);
    expect(scan([filter({ $eq: [field("nested.x.k"), lit(1)] })])).toEqual([13]);
  });

  test("arithmetic needs two int64 or two float64", () => {
    const ints = [filter({ $eq: [{ $mul: [lit(3n), lit(5n)] }, lit(15n)] })];
    expect(scan(ints)).toHaveLength(X_VALUES.length);
    const mixed = failure(tableScan("things", null, [filter({ $eq: [{ $add: [field("x"), lit(1n)] }, lit(3n)] })]));
    expect(mixed).toMatch(/^EvalError: Cannot add undefined \(type undefined\) and 1n \(type int64\)/);
    expect(failure(tableScan("things", null, [filter({ $gt: [{ $add: [lit(1.5), lit(1n)] }, lit(0)] })]))).toMatch(/^EvalError: Cannot add 1\.5/);
    expect(failure(tableScan("things", null, [filter({ $eq: [{ $div: [lit(1n), lit(0n)] }, lit(0n)] })]))).toMatch(/^EvalError/);
    expect(failure(tableScan("things", null, [filter({ $eq: [{ $add: [lit(2n ** 63n - 1n), lit(1n)] }, lit(0n)] })]))).toMatch(/overflow/);
    // Float division by zero is IEEE, not an error; $mod and $neg follow the operand type.
    expect(scan([filter({ $eq: [{ $div: [lit(1), lit(0)] }, lit(Infinity)] }), { limit: 1 }])).toEqual([0]);
    expect(scan([filter({ $eq: [{ $mod: [lit(-7n), lit(3n)] }, lit(-1n)] }), { limit: 1 }])).toEqual([0]);
    expect(scan([filter({ $eq: [{ $neg: lit(1.5) }, lit(-1.5)] }), { limit: 1 }])).toEqual([0]);
    expect(scan([filter({ $eq: [{ $neg: lit(2n) }, lit(-2n)] }), { limit: 1 }])).toEqual([0]);
    expect(failure(tableScan("things", null, [filter({ $eq: [{ $neg: lit(-(2n ** 63n)) }, lit(0n)] })]))).toMatch(/overflow/);
    expect(failure(tableScan("things", null, [filter({ $eq: [{ $neg: field("x") }, lit(0)] })]))).toMatch(
      /^EvalError: Cannot negate undefined/,
    );
    expect(scan([filter({ $eq: [{ $sub: [lit(1n), lit(3n)] }, lit(-2n)] }), { limit: 1 }])).toEqual([0]);
  });

  test("boolean operators short-circuit and insist on booleans", () => {
    expect(scan([filter({ $and: [] })])).toHaveLength(X_VALUES.length);
    expect(scan([filter({ $or: [] })])).toEqual([]);
    expect(scan([filter({ $not: { $eq: [field("x"), lit(undefined)] } }), { limit: 2 }])).toEqual([1, 2]);
    // The non-boolean second operands are never evaluated.
    expect(scan([filter({ $or: [lit(true), field("x")] })])).toHaveLength(X_VALUES.length);
    expect(scan([filter({ $and: [lit(false), field("x")] })])).toEqual([]);
    expect(failure(tableScan("things", null, [filter({ $and: [lit(true), lit(1)] })]))).toMatch(
      /^EvalError: Cannot use 1 \(type float64\) as a Boolean/,
    );
  });

  test("a filter that does not produce a boolean is an error, a missing field included", () => {
    expect(failure(tableScan("things", null, [filter(field("x"))]))).toMatch(/^EvalError: Cannot use undefined/);
    expect(failure(tableScan("things", null, [filter(lit("yes"))]))).toMatch(/^EvalError/);
    expect(scan([filter(lit(true))])).toHaveLength(X_VALUES.length);
    expect(failure(tableScan("things", null, [filter({ $bogus: [] })]))).toMatch(/^InvalidQuery/);
  });
});

describe("operators and order", () => {
  test("order desc reverses, limits end the stream", () => {
    expect(scan([{ limit: 3 }], "desc")).toEqual([13, 12, 11]);
    expect(scan([{ limit: 0 }])).toEqual([]);
    expect(scan([{ limit: 100 }])).toHaveLength(X_VALUES.length);
  });

  test("operators apply strictly in order", () => {
    const isString = filter({ $and: [{ $gte: [field("x"), lit("")] }, { $lt: [field("x"), lit(new ArrayBuffer(0))] }] });
    // limit then filter: the first four documents, of which none is a string.
    expect(scan([{ limit: 4 }, isString])).toEqual([]);
    // filter then limit: the first two strings.
    expect(scan([isString, { limit: 2 }])).toEqual([9, 10]);
    expect(scan([{ limit: 11 }, isString, { limit: 5 }])).toEqual([9, 10]);
  });

  test("a stream sees the writes its own transaction makes while it runs", () => {
    store.begin();
    const stream = openQueryStream(store, tableScan("things"), createReadSetRecorder());
    expect(JSON.parse(stream.next()!).i).toBe(0);
    store.insert("things", { i: 100 });
    const rest: number[] = [];
    for (let t = stream.next(); t !== null; t = stream.next()) rest.push(JSON.parse(t).i);
    store.rollback();
    expect(rest).toEqual([...X_VALUES.keys()].slice(1).concat(100));
  });

  test("close() ends a stream early", () => {
    const stream = openQueryStream(store, tableScan("things"), createReadSetRecorder());
    expect(stream.next()).not.toBeNull();
    stream.close();
    expect(stream.next()).toBeNull();
  });
});
