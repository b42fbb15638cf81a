import { convexToJson, v, type JSONValue, type Value, type ValidatorJSON } from "convex/values";
import { describe, expect, test } from "vitest";
import { encodeDocumentId } from "../src/values/document-id";
import { validateValue, type ValidationContext } from "../src/values/validator";
import { isPlainConvexJson, jsonCheck, valueCheck } from "../src/values/validator-check";
import { validatorJson } from "./helpers/convex-json";
import { matchingValues, randomValidators } from "./helpers/random-validators";
import { createSeededRandom } from "./helpers/seeded-random";

/**
 * The compiled checks are a shortcut in front of `validateValue`: they may
 * decline anything, but must never accept what `validateValue` rejects. Here
 * random validators meet random values (matching and not), in both the
 * decoded and the Convex JSON form.
 */

const TABLES: Record<number, string> = { 10001: "users", 10002: "posts", 540: "_storage" };
const context: ValidationContext = { tableNameOf: (n) => TABLES[n] ?? null };
const internal = new Uint8Array(16).fill(9);
const IDS = [encodeDocumentId(10001, internal), encodeDocumentId(10002, internal), encodeDocumentId(540, internal), encodeDocumentId(10099, internal)];

const random = createSeededRandom(4242);
const pick = <T>(items: readonly T[]): T => items[random.int(items.length)]!;

const randomValidator = randomValidators(random, ["a", "b", "c", "toString"]);

function randomValue(depth: number): Value {
  const leaves: (() => Value)[] = [
    () => pick(["a", "b", "", "x y"]),
    () => pick([0, -0, 1, 1.5, -3, Number.NaN, Number.POSITIVE_INFINITY]),
    () => pick([true, false]),
    () => null,
    () => pick([0n, 5n, -1n]),
    () => new Uint8Array([1, 2]).buffer,
    () => pick(IDS),
  ];
  if (depth <= 0 || random.int(3) === 0) return pick(leaves)();
  if (random.int(2) === 0) return Array.from({ length: random.int(3) }, () => randomValue(depth - 1));
  const out: Record<string, Value> = {};
  for (const name of ["a", "b", "c", "d", "toString"]) if (random.int(2) === 0) out[name] = randomValue(depth - 1);
  return out;
}

/** A value shaped to match `validator` where that is easy, so acceptance is exercised too. */
const matchingValue = matchingValues(random, IDS) as (validator: ValidatorJSON) => Value;

describe("compiled validator checks", () => {
  test("never accept a value validateValue rejects (decoded and JSON forms, 20,000 random pairs)", () => {
    let acceptedValues = 0;
    let acceptedJson = 0;
    for (let i = 0; i < 20_000; i++) {
      const validator = randomValidator(3);
      const value = i % 2 === 0 ? randomValue(3) : matchingValue(validator);
      const valid = validateValue(validator, value, context) === null;
      if (valueCheck(validator, context)(value)) {
        expect({ validator, value, valid }).toMatchObject({ valid: true });
        acceptedValues += 1;
      }
      const json = convexToJson(value);
      if (jsonCheck(validator, context)(json)) {
        expect({ validator, json, valid }).toMatchObject({ valid: true });
        acceptedJson += 1;
      }
    }
    // The shortcut must actually take most valid values, or it is useless.
    expect(acceptedValues).toBeGreaterThan(2_000);
    expect(acceptedJson).toBeGreaterThan(2_000);
  });

  test("the JSON check accepts plain valid JSON and declines tagged or malformed JSON", () => {
    const post = validatorJson(v.object({ _id: v.id("posts"), caption: v.optional(v.string()), likes: v.number(), tags: v.array(v.string()) }));
    const check = jsonCheck(post, context);
    expect(check({ _id: IDS[1], likes: 3, tags: ["a"] })).toBe(true);
    expect(check({ _id: IDS[1], likes: 3, tags: ["a"], caption: "hi" })).toBe(true);
    expect(check({ _id: IDS[0], likes: 3, tags: [] })).toBe(false); // an id of another table
    expect(check({ _id: IDS[1], likes: { $float: "AAAAAAAA+H8=" }, tags: [] })).toBe(false); // NaN: decided by validateValue
    expect(check({ _id: IDS[1], likes: 3, tags: [], extra: 1 })).toBe(false);
    expect(check({ $integer: "AQAAAAAAAAA=" })).toBe(false);
    expect(jsonCheck(validatorJson(v.any()), context)({ $bytes: "AQ==" })).toBe(false);
    expect(isPlainConvexJson({ a: [1, "b", null, { c: true }] })).toBe(true);
    expect(isPlainConvexJson({ "bad\u0001name": 1 })).toBe(false);
    expect(isPlainConvexJson({ nested: { $integer: "AQAAAAAAAAA=" } })).toBe(false);
  });

  test("literals keep -0 apart from 0, as the value order does", () => {
    const zero = validatorJson(v.literal(0));
    expect(valueCheck(zero, context)(0)).toBe(true);
    expect(valueCheck(zero, context)(-0)).toBe(false);
    expect(validateValue(zero, -0, context)).not.toBeNull();
    expect(jsonCheck(zero, context)(JSON.parse("-0") as JSONValue)).toBe(false);
  });
});
