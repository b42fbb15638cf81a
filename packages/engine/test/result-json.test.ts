import { runInNewContext } from "node:vm";
import { convexToJson, type Value } from "convex/values";
import { expect, test } from "vitest";
import { resultJson, resultText } from "../src/values/result-json";
import { randomTools, seededRandom } from "./support/seeded-random";

/**
 * The query workers encode function results with `resultJson` instead of upstream's
 * `convexToJson` (`worker-syscall-global.ts`). It must give the very same JSON, and for
 * anything upstream refuses, upstream's very error.
 */

const convert = (value: unknown) => resultJson(value as Value, convexToJson);
const outcome = (f: () => unknown) => {
  try {
    return { json: JSON.stringify(f()) };
  } catch (e) {
    return { error: `${(e as Error).constructor.name}: ${(e as Error).message}` };
  }
};

function randomValue(rng: ReturnType<typeof randomTools>, depth: number): unknown {
  const kind = rng.int(0, depth > 3 ? 8 : 11);
  switch (kind) {
    case 0: return null;
    case 1: return rng.chance(0.5);
    case 2: return rng.pick([0, 1.5, -7, 2 ** 53, -0, NaN, Infinity, -Infinity, 1e-300]);
    case 3: return rng.pick(["", "a", "héllo", "\u0000x", "😀", '"quote"']);
    case 4: return rng.pick([0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n)]);
    case 5: return new Uint8Array([rng.int(0, 255), 0, 255]).buffer;
    case 6: return `id${rng.int(0, 99)}`;
    case 7: return rng.int(-1000, 1000);
    case 8: return undefined; // an object field left out; refused in an array
    case 9: return Array.from({ length: rng.int(0, 4) }, () => randomValue(rng, depth + 1)).filter((v) => v !== undefined);
    default: {
      const out: Record<string, unknown> = {};
      for (let i = rng.int(0, 5); i > 0; i--) out[rng.pick(["zeta", "alpha", "_id", "Beta", "b", "a1", "10", "2", "ünï"].slice(0, 8))] = randomValue(rng, depth + 1);
      return out;
    }
  }
}

test("gives upstream's JSON for 3,000 random values (keys out of order, bigints, bytes, special floats, undefined fields)", () => {
  const rng = randomTools(seededRandom(7));
  for (let i = 0; i < 3_000; i++) {
    const value = randomValue(rng, 0) ?? null;
    expect(outcome(() => convert(value))).toEqual(outcome(() => convexToJson(value as Value)));
  }
});

const REFUSED: Record<string, unknown> = {
  "undefined in an array": [1, undefined],
  "a $-field": { ok: 1, nested: { $bad: 1 } },
  "a control character in a field name": { "a\nb": 1 },
  "a non-ASCII field name": { ünï: 1 },
  "a field name over 1,024 characters": { ["f".repeat(1025)]: 1 },
  "a Set": { s: new Set([1]) },
  "a Map": [new Map([[1, 2]])],
  "a class instance": { d: new Date(0) },
  "a function": { f: () => 1 },
  "a symbol": [Symbol("s")],
  "a bigint out of range": { n: 2n ** 63n },
};

for (const [name, value] of Object.entries(REFUSED)) {
  test(`throws upstream's error for ${name}`, () => {
    const expected = outcome(() => convexToJson(value as Value));
    expect(expected.error).toBeDefined();
    expect(outcome(() => convert(value))).toEqual(expected);
  });
}

test("takes what upstream takes beyond plain objects: null prototypes, other realms' objects, holes, undefined fields of any name", () => {
  const bare = Object.assign(Object.create(null) as object, { b: 1, a: [2n] });
  const foreign = runInNewContext('({ z: 1, y: { x: "v" } })') as unknown;
  const holey = [1, , 3]; // eslint-disable-line no-sparse-arrays
  // Upstream checks the names of fields it writes only: an undefined field may have any name.
  const skipped = { $reserved: undefined, "a\nb": undefined, kept: 1 };
  for (const value of [bare, foreign, { wrap: foreign }, { holey }, skipped]) {
    expect(outcome(() => convert(value))).toEqual(outcome(() => convexToJson(value as Value)));
  }
});

/** `resultText` as the worker uses it: the text and the value, or the error. */
const encode = (value: unknown) => {
  try {
    const { text, json } = resultText(value as Value, convexToJson);
    return { text, json: json as unknown };
  } catch (e) {
    return { error: `${(e as Error).constructor.name}: ${(e as Error).message}` };
  }
};
const upstreamText = (value: unknown) => {
  try {
    const json = convexToJson(value as Value);
    return { text: JSON.stringify(json), json: json as unknown };
  } catch (e) {
    return { error: `${(e as Error).constructor.name}: ${(e as Error).message}` };
  }
};

test("resultText gives upstream's text and value for 3,000 random values, plain ones (no copy) and others alike", () => {
  const rng = randomTools(seededRandom(11));
  let plain = 0;
  for (let i = 0; i < 3_000; i++) {
    const value = randomValue(rng, 0) ?? null;
    const encoded = encode(value);
    expect(encoded).toEqual(upstreamText(value));
    if ("text" in encoded && resultText(value as Value, convexToJson).json === value) plain++;
  }
  // The fast path was taken for a good share of them (and not for the rest).
  expect(plain).toBeGreaterThan(300);
  expect(plain).toBeLessThan(2_900);
});

test("resultText writes each object's keys in upstream's order, whatever order the objects were built in", () => {
  const rows = [
    { zeta: 1, alpha: "a", _id: "x", nested: { b: 2, a: [1, { d: null, c: true }] } },
    { "10": 1, "2": 2, b: 3, A: 4, "01": 5, "4294967295": 6, "4294967294": 7 },
    Object.assign(Object.create(null) as object, { y: 1, x: 2 }),
  ];
  const { text, json } = resultText(rows as Value, convexToJson);
  expect(text).toBe(JSON.stringify(convexToJson(rows as Value)));
  expect(json).toEqual(convexToJson(rows as Value));
  expect(text).toContain('{"_id":"x","alpha":"a","nested":{"a":[1,{"c":true,"d":null}],"b":2},"zeta":1}');
  expect(text).toContain('{"2":2,"10":1,"4294967294":7,"01":5,"4294967295":6,"A":4,"b":3}');
});

test("resultText hands documents as the database gives them out (keys in order) on as their own JSON value, no copy", () => {
  const docs = [
    { _creationTime: 1.5, _id: "a", body: "x", n: 2, tags: ["t"] },
    { _creationTime: 2.5, _id: "b", body: "y", meta: { "2": true, "10": false, seen: null }, n: 3 },
  ];
  const { text, json } = resultText(docs, convexToJson);
  expect(json).toBe(docs);
  expect(text).toBe(JSON.stringify(convexToJson(docs)));
});

for (const [name, value] of Object.entries(REFUSED)) {
  test(`resultText throws upstream's error for ${name}`, () => {
    const expected = upstreamText(value);
    expect(expected.error).toBeDefined();
    expect(encode(value)).toEqual(expected);
  });
}

test("resultText leaves out an own __proto__ field as upstream's copy does, even in an object whose keys are in order", () => {
  // JSON.parse makes `__proto__` an own field; upstream's `out[k] = …` sets the copy's prototype instead.
  for (const text of ['[{"__proto__": {"x": 1}, "a": 2}]', '{"__proto__": 5, "b": [1]}', '{"a": {"__proto__": null}}']) {
    const value = JSON.parse(text) as Value;
    expect(encode(value)).toEqual(upstreamText(value));
  }
});
