import { jsonToConvex, type JSONValue } from "convex/values";
import { expect, test } from "vitest";
import { documentToConvex } from "../src/runtime/convex-shim/document-values";
import { randomTools, seededRandom } from "./support/seeded-random";

/**
 * The worker threads copy the documents they hand user code with `documentToConvex`
 * instead of upstream's `jsonToConvex` (`convex-shim/document-values.ts`): the same value,
 * always a fresh copy, and upstream's own error for anything upstream refuses.
 */

const outcome = (f: () => unknown) => {
  try {
    return { value: f() };
  } catch (e) {
    return { error: `${(e as Error).constructor.name}: ${(e as Error).message}` };
  }
};

function randomJson(rng: ReturnType<typeof randomTools>, depth: number): JSONValue {
  switch (rng.int(0, depth > 3 ? 6 : 8)) {
    case 0: return null;
    case 1: return rng.chance(0.5);
    case 2: return rng.pick([0, -3.5, 1e300, 42]);
    case 3: return rng.pick(["", "x", "ünï", "a\u0000b"]);
    case 4: return { $integer: rng.pick(["AQAAAAAAAAA=", "AAAAAAAAAIA="]) };
    case 5: return { $bytes: rng.pick(["", "AAEC", "/w=="]) };
    case 6: return { $float: rng.pick(["AAAAAAAA+H8=", "AAAAAAAA8H8=", "AAAAAAAAAIA="]) };
    case 7: return Array.from({ length: rng.int(0, 4) }, () => randomJson(rng, depth + 1));
    default: {
      const out: Record<string, JSONValue> = {};
      for (let i = rng.int(0, 5); i > 0; i--) out[rng.pick(["_id", "_creationTime", "name", "zz", "a b", "10"])] = randomJson(rng, depth + 1);
      return out;
    }
  }
}

test("copies 3,000 random documents exactly as upstream, into values that share nothing with the input", () => {
  const rng = randomTools(seededRandom(11));
  for (let i = 0; i < 3_000; i++) {
    const json = randomJson(rng, 0);
    const copy = documentToConvex(json);
    expect(copy).toEqual(jsonToConvex(json));
    if (typeof json === "object" && json !== null) expect(copy).not.toBe(json);
  }
  const doc = { _id: "d1", list: [{ k: 1 }], inner: { deep: "v" } };
  const copy = documentToConvex(doc) as typeof doc;
  copy.list[0]!.k = 2;
  copy.inner.deep = "changed";
  expect(doc).toEqual({ _id: "d1", list: [{ k: 1 }], inner: { deep: "v" } });
});

test("a document copied again (its plan: a spread plus its nested fields) is upstream's value, fresh each time", () => {
  // The engine hands the same parsed document to every run that reads it: the first copy
  // walks it, later ones follow what the walk recorded. Each copy, first or later, must be
  // upstream's value and share nothing with the document or with other copies.
  const rng = randomTools(seededRandom(12));
  for (let i = 0; i < 1_000; i++) {
    const json = randomJson(rng, 0);
    const first = outcome(() => documentToConvex(json));
    for (let again = 0; again < 3; again++) {
      const copy = outcome(() => documentToConvex(json));
      expect(copy).toEqual(outcome(() => jsonToConvex(json)));
      expect(copy).toEqual(first);
      if (typeof json === "object" && json !== null && "value" in copy) expect(copy.value).not.toBe(json);
    }
  }
  const doc = { _id: "d1", n: { $integer: "AQAAAAAAAAA=" }, b: { $bytes: "AAEC" }, list: [{ k: 1 }], inner: { deep: "v" }, "10": 1 };
  documentToConvex(doc);
  const a = documentToConvex(doc) as Record<string, unknown> & { list: { k: number }[]; inner: { deep: string } };
  const b = documentToConvex(doc) as typeof a;
  expect(Object.keys(a)).toEqual(Object.keys(jsonToConvex(doc) as object));
  expect(a.n).toBe(1n);
  expect(a.b).toBeInstanceOf(ArrayBuffer);
  expect(a.b).not.toBe(b.b);
  a.list[0]!.k = 2;
  a.inner.deep = "changed";
  a.added = true;
  expect(b).toEqual(jsonToConvex(doc));
  expect(doc).toEqual({ _id: "d1", n: { $integer: "AQAAAAAAAAA=" }, b: { $bytes: "AAEC" }, list: [{ k: 1 }], inner: { deep: "v" }, "10": 1 });
});

test("a field named __proto__ is copied as upstream copies it, the second time too", () => {
  const json = JSON.parse('{"a":1,"__proto__":{"x":1}}') as JSONValue;
  for (let i = 0; i < 2; i++) {
    const copy = documentToConvex(json) as Record<string, unknown>;
    const expected = jsonToConvex(json) as Record<string, unknown>;
    expect(Object.keys(copy)).toEqual(Object.keys(expected));
    expect(Object.getPrototypeOf(copy)).toEqual(Object.getPrototypeOf(expected));
    expect(Object.hasOwn(copy, "__proto__")).toBe(Object.hasOwn(expected, "__proto__"));
  }
});

const REFUSED: Record<string, JSONValue> = {
  "a $-field beside others": { a: 1, $b: 2 },
  "an unknown $-field alone": { nested: { $foo: 1 } },
  "a $set": [{ $set: [] }],
  "a malformed $integer": { n: { $integer: 5 } },
  "a $float that should be a number": { f: { $float: "AAAAAAAA8D8=" } },
  "a control character in a field name": { ok: 1, "a\tb": 1 },
  "a non-ASCII field name": { ünï: 1 },
  "a field name over 1,024 characters": { ["f".repeat(1025)]: 1 },
};

for (const [name, json] of Object.entries(REFUSED)) {
  test(`throws upstream's error for ${name}`, () => {
    const expected = outcome(() => jsonToConvex(json));
    expect(expected.error).toBeDefined();
    expect(outcome(() => documentToConvex(json))).toEqual(expected);
  });
}
