import { runInNewContext } from "node:vm";
import { convexToJson, type Value } from "convex/values";
import { expect, test } from "vitest";
import { resultJson } from "../src/values/result-json";
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
