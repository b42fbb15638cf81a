import { convexToJson, v, type Value, type ValidatorJSON } from "convex/values";
import { expect, test } from "vitest";
import { checkReturns } from "../src/runtime/validation";
import type { RegisteredFunction } from "../src/runtime/function-registry";
import { encodeDocumentId } from "../src/values/document-id";
import { checkedResultText, resultEncoder, type ResultChecks } from "../src/values/result-encoder";
import { resultText } from "../src/values/result-json";
import type { ValidationContext } from "../src/values/validator";
import { checkResultLimits } from "../src/values/value-limits";
import { validatorJson } from "./helpers/convex-json";
import { matchingValues, randomValidators } from "./helpers/random-validators";
import { createSeededRandom } from "./helpers/seeded-random";

/**
 * The query workers encode a result and check it in one walk (`checkedResultText`), which
 * proves what it can and leaves the rest to the usual way: `resultText`, then Convex's
 * limits (`checkResultLimits`), then the `returns` validator (`checkReturns`). Side by side,
 * both must give the same text, or the same error, for any value and validator; and the
 * walk must prove the common case, or it is useless.
 */

const TABLES: Record<number, string> = { 10001: "users", 10002: "posts", 540: "_storage" };
const context: ValidationContext = { tableNameOf: (n) => TABLES[n] ?? null };
const internal = new Uint8Array(16).fill(9);
const IDS = [encodeDocumentId(10001, internal), encodeDocumentId(10002, internal), encodeDocumentId(540, internal), encodeDocumentId(10099, internal)];
const PATH = "posts:list";

const describeError = (e: unknown) => `${(e as Error).constructor.name}: ${(e as Error).message}`;

function checksFor(validator: ValidatorJSON | null): ResultChecks {
  const fn = { path: PATH, returnsValidator: validator } as RegisteredFunction;
  return { encoder: resultEncoder(validator, context), limits: (json) => checkResultLimits(PATH, json), returns: (json) => checkReturns(fn, json, context) };
}

/** What the worker does now: text and the check's failure, or upstream's error. */
function oneWalk(value: unknown, validator: ValidatorJSON | null) {
  try {
    const { text, failure } = checkedResultText(value as Value, convexToJson, checksFor(validator));
    return failure === undefined ? { text } : { text, failure: describeError(failure) };
  } catch (e) {
    return { error: describeError(e) };
  }
}

/** The usual way, as the worker did it before: encode, then limits, then the validator. */
function usualWay(value: unknown, validator: ValidatorJSON | null) {
  try {
    const { text, json } = resultText(value as Value, convexToJson);
    try {
      checkResultLimits(PATH, json);
      checkReturns({ path: PATH, returnsValidator: validator } as RegisteredFunction, json, context);
      return { text };
    } catch (e) {
      return { text, failure: describeError(e) };
    }
  } catch (e) {
    return { error: describeError(e) };
  }
}

/** Whether the walk proved everything (no usual check ran, no error of upstream's). */
function proven(value: unknown, validator: ValidatorJSON | null): boolean {
  let usual = false;
  const checks = checksFor(validator);
  const run = () => checkedResultText(value as Value, convexToJson, {
    encoder: checks.encoder,
    limits: (json) => {
      usual = true;
      checks.limits(json);
    },
    returns: (json) => {
      usual = true;
      checks.returns(json);
    },
  });
  try {
    run();
  } catch {
    return false;
  }
  return !usual;
}

const random = createSeededRandom(2026);
const pick = <T>(items: readonly T[]): T => items[random.int(items.length)]!;
const NAMES = ["zeta", "a", "b", "_id", "10", "2", "toString", "c"];

const randomValidator = randomValidators(random, NAMES);

function randomLeaf(): unknown {
  return pick<() => unknown>([
    () => pick(["a", "b", "", "x y", "quote\"back\\slash", "\u0000ctl", "😀", "lone\ud800", "\\ud800 written out", "é"]),
    () => pick([0, -0, 1, 1.5, -3, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY]),
    () => pick([true, false]),
    () => null,
    () => pick([0n, 5n, -1n]),
    () => new Uint8Array([1, 2]).buffer,
    () => pick(IDS),
    () => undefined,
  ])();
}

function randomValue(depth: number): unknown {
  if (depth <= 0 || random.int(3) === 0) return randomLeaf();
  const kind = random.int(10);
  if (kind < 3) return Array.from({ length: random.int(4) }, () => randomValue(depth - 1)).filter((x) => x !== undefined || random.int(8) === 0);
  if (kind === 3) return pick([new Date(0), new Map(), Object.assign(Object.create(null) as object, { b: 1, a: "x" }), JSON.parse('{"__proto__": {"x": 1}, "a": 2}') as object]);
  const out: Record<string, unknown> = {};
  for (let n = random.int(5); n > 0; n--) out[pick([...NAMES, "$bad", "ünï"])] = randomValue(depth - 1);
  return out;
}

const matchingValue = matchingValues(random, IDS);

test("gives the usual way's text, error or check failure for 20,000 random values and validators", () => {
  let provenCount = 0;
  for (let i = 0; i < 20_000; i++) {
    const validator = random.int(10) === 0 ? null : randomValidator(3);
    const raw = i % 2 === 0 ? randomValue(3) : matchingValue(validator ?? randomValidator(3));
    const value = raw === undefined ? null : raw;
    const expected = usualWay(value, validator);
    expect({ value, validator, outcome: oneWalk(value, validator) }).toEqual({ value, validator, outcome: expected });
    if (proven(value, validator)) {
      expect(expected).not.toHaveProperty("failure");
      provenCount++;
    }
  }
  // The walk proves a good share of them, and not everything.
  expect(provenCount).toBeGreaterThan(4_000);
  expect(provenCount).toBeLessThan(18_000);
});

const postValidator = v.object({
  _id: v.id("posts"),
  _creationTime: v.number(),
  caption: v.optional(v.string()),
  author: v.object({ _id: v.id("users"), name: v.string() }),
  tags: v.array(v.string()),
  width: v.union(v.number(), v.null()),
});
const post = validatorJson(postValidator);
const feed = validatorJson(v.array(postValidator));
/** A feed item as apps build it: keys not in upstream's order. */
const item = (n: number) => ({ _id: IDS[1], _creationTime: 1733500000000.5 + n, caption: `post ${n}`, author: { name: "ann", _id: IDS[0] }, tags: ["x"], width: n % 2 ? null : 1080 });

test("proves a feed of objects built out of order, with the usual way's text", () => {
  const value = Array.from({ length: 50 }, (_, n) => item(n));
  expect(proven(value, feed)).toBe(true);
  expect(oneWalk(value, feed)).toEqual(usualWay(value, feed));
  expect(oneWalk(value, feed)).toEqual({ text: JSON.stringify(convexToJson(value)) });
  // Without a validator too.
  expect(proven(value, null)).toBe(true);
  expect(oneWalk(value, null)).toEqual({ text: JSON.stringify(convexToJson(value)) });
});

/** Values the walk must not prove: each gets the usual way's outcome. */
const UNPROVEN: Record<string, [unknown, ValidatorJSON | null]> = {
  "a missing required field": [{ ...item(1), _id: undefined }, post],
  "an extra field": [{ ...item(1), extra: 1 }, post],
  "an id of another table": [{ ...item(1), _id: IDS[0] }, post],
  "an id of no table": [{ ...item(1), _id: IDS[3] }, post],
  "a wrong type deep inside": [{ ...item(1), author: { _id: IDS[0], name: 5 } }, post],
  "a null prototype (the validator's check declines it)": [Object.assign(Object.create(null) as object, item(1)), post],
  "a bigint where the validator says number": [{ ...item(1), _creationTime: 5n }, post],
  "NaN for v.number()": [{ ...item(1), _creationTime: Number.NaN }, post],
  "-0 for v.number()": [{ ...item(1), _creationTime: -0 }, post],
  "a lone surrogate": [{ ...item(1), caption: "a\udc00b" }, post],
  "a lone surrogate, no validator": [["x", "\ud83d"], null],
  "an escaped backslash before ud": [{ ...item(1), caption: "C:\\udir" }, post],
  "an array of 8,193 elements": [new Array(8193).fill(1), null],
  "an object of 1,025 fields": [Object.fromEntries(Array.from({ length: 1025 }, (_, n) => [`f${n}`, n])), null],
  "65 levels of arrays": [nested(65), null],
  "a Date": [{ ...item(1), caption: new Date(0) }, post],
  "undefined in an array": [[1, undefined], null],
  "a $-field": [{ ok: { $bad: 1 } }, null],
  "an own __proto__ field": [JSON.parse('[{"__proto__": {"x": 1}, "a": 2}]') as unknown, null],
  "a record validator (not compiled)": [{ a: 1, b: "x" }, validatorJson(v.record(v.string(), v.number()))],
  "an int64 inside (not compiled)": [{ n: 5n }, validatorJson(v.object({ n: v.int64() }))],
};

function nested(levels: number): unknown {
  let value: unknown = 0;
  for (let i = 0; i < levels; i++) value = [value];
  return value;
}

for (const [name, [value, validator]] of Object.entries(UNPROVEN)) {
  test(`leaves ${name} to the usual way, with its outcome`, () => {
    expect(proven(value, validator)).toBe(false);
    expect(oneWalk(value, validator)).toEqual(usualWay(value, validator));
  });
}

test("proves 64 levels of nesting, and a text near the size bound; a larger text is measured the usual way", () => {
  expect(proven(nested(64), null)).toBe(true);
  expect(oneWalk(nested(64), null)).toEqual(usualWay(nested(64), null));
  expect(usualWay(nested(65), null)).toMatchObject({ failure: expect.stringContaining("too nested") as unknown });
  const bound = Math.floor((1 << 24) / 9);
  const fits = ["x".repeat(bound - 2)];
  expect(proven(fits, null)).toBe(false); // the array's brackets make it 2 over
  expect(proven(["x".repeat(bound - 4)], null)).toBe(true);
  // Over 16 MiB as Convex counts it (3 bytes per character), while the text is well under that.
  const big = ["€".repeat(6_000_000)];
  expect(oneWalk(big, null)).toEqual(usualWay(big, null));
  expect(oneWalk(big, null)).toMatchObject({ failure: expect.stringContaining("return value is too large") as unknown });
});

test("checks the result itself when its keys are in upstream's order (no copy), else a copy", () => {
  // A long string, so that the size is measured the usual way and the value measured is seen.
  const body = "x".repeat(2_000_000);
  const measured = (value: unknown): unknown => {
    let seen: unknown;
    checkedResultText(value as Value, convexToJson, { ...checksFor(null), limits: (json) => (seen = json) });
    return seen;
  };
  const docs = [{ _creationTime: 1.5, _id: IDS[1], body }];
  expect(measured(docs)).toBe(docs);
  const unordered = [{ _id: IDS[1], _creationTime: 1.5, body }];
  expect(measured(unordered)).not.toBe(unordered);
  expect(measured(unordered)).toEqual(convexToJson(unordered));
});

test("copies made by a shape's compiled copier (after a few of them) print as the usual way's, array-index keys and left-out fields included", () => {
  const make = (n: number) => ({ zeta: n, "10": [n], "2": { b: n, a: "x" }, _id: IDS[1], maybe: n % 3 === 0 ? undefined : n });
  const value = Array.from({ length: 40 }, (_, n) => make(n));
  expect(proven(value, null)).toBe(true);
  for (let round = 0; round < 3; round++) expect(oneWalk(value, null)).toEqual(usualWay(value, null));
  expect(oneWalk(value, null)).toEqual({ text: JSON.stringify(convexToJson(value)) });
});

test("texts kept across results (the same posts for many viewers) are the usual way's, whatever changed between them", () => {
  const feedOf = validatorJson(
    v.array(
      v.object({
        _creationTime: v.number(),
        _id: v.id("posts"),
        author: v.object({ _id: v.id("users"), name: v.string() }),
        caption: v.optional(v.string()),
        isLiked: v.boolean(),
        tags: v.array(v.string()),
        extra: v.optional(v.any()),
      }),
    ),
  );
  // One shared object the "app" keeps between runs and changes: never taken as unchanged.
  const shared: Record<string, unknown> = { "7": 1, b: "x", a: [1, 2] };
  const author = (n: number) => ({ _id: IDS[0], name: n % 5 === 0 ? "quote\"d\\" : "ann" });
  const post = (n: number, viewer: number) => ({
    _creationTime: 1733500000000.5 + (n % 7),
    _id: IDS[1],
    author: author(n),
    caption: n % 3 === 0 ? undefined : `post ${n % 4} é 😀`,
    isLiked: (n + viewer) % 2 === 0,
    tags: n % 2 ? [] : ["x", `t${n % 3}`],
    extra: n % 4 === 0 ? shared : n % 4 === 1 ? { "10": { q: n % 2 }, "2": "y", z: null } : undefined,
  });
  for (let viewer = 0; viewer < 600; viewer++) {
    const value = Array.from({ length: 20 }, (_, n) => post(n, viewer));
    shared.b = `x${viewer % 3}`;
    (shared.a as number[])[1] = viewer % 2;
    for (const validator of [feedOf, null]) {
      expect(oneWalk(value, validator)).toEqual({ text: JSON.stringify(convexToJson(value as Value)) });
    }
  }
});

test("texts kept for one shape are not taken for another shape with the same values", () => {
  const a = [{ a: IDS[0], b: 1 }];
  const b = [{ b: 1, c: IDS[0] }];
  const c = [{ "1": IDS[0], b: 1, "0": { b: 1 } }];
  for (let round = 0; round < 3; round++) {
    for (const value of [a, b, c]) expect(oneWalk(value, null)).toEqual({ text: JSON.stringify(convexToJson(value as Value)) });
  }
});

test("no text is kept or reused while a prototype has a toJSON (JSON.stringify would call it)", () => {
  const value = [{ _id: IDS[1], author: { _id: IDS[0] } }];
  for (let round = 0; round < 3; round++) oneWalk(value, null);
  const proto = Object.prototype as { toJSON?: unknown };
  proto.toJSON = function (this: object) {
    return "_id" in this ? { id: (this as { _id: unknown })._id } : this;
  };
  try {
    expect(oneWalk(value, null)).toEqual({ text: JSON.stringify(convexToJson(value as Value)) });
  } finally {
    delete proto.toJSON;
  }
  expect(oneWalk(value, null)).toEqual({ text: JSON.stringify(convexToJson(value as Value)) });
});
