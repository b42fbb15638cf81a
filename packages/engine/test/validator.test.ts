import { v, type Value } from "convex/values";
import { describe, expect, test } from "vitest";
import { encodeDocumentId } from "../src/values/document-id";
import { validateValue, type ValidationContext } from "../src/values/validator";
import { validatorJson } from "./helpers/convex-json";

const TABLES: Record<number, string> = { 10001: "users", 10002: "posts", 540: "_storage" };
const context: ValidationContext = { tableNameOf: (n) => TABLES[n] ?? null };
const internal = new Uint8Array(16).fill(7);
const userId = encodeDocumentId(10001, internal);
const postId = encodeDocumentId(10002, internal);
const storageId = encodeDocumentId(540, internal);
const unknownTableId = encodeDocumentId(10099, internal);

// Validators are built with the real `v` so the JSON is exactly what the package exports.
const check = (validator: object, value: Value) => validateValue(validatorJson(validator), value, context);

describe("validator", () => {
  test("scalars accept their own type only (int64 and float64 are distinct)", () => {
    expect(check(v.string(), "x")).toBeNull();
    expect(check(v.number(), 1.5)).toBeNull();
    expect(check(v.number(), 1n)).toContain("Value does not match validator.");
    expect(check(v.int64(), 1n)).toBeNull();
    expect(check(v.int64(), 1)).toContain("Validator: v.int64()");
    expect(check(v.boolean(), false)).toBeNull();
    expect(check(v.null(), null)).toBeNull();
    expect(check(v.bytes(), new Uint8Array([1]).buffer)).toBeNull();
    expect(check(v.bytes(), "AQ==")).not.toBeNull();
    expect(check(v.any(), { anything: [1n] })).toBeNull();
  });

  test("objects: optional fields may be missing, required may not, extras are rejected", () => {
    const person = v.object({ name: v.string(), nick: v.optional(v.string()) });
    expect(check(person, { name: "ada" })).toBeNull();
    expect(check(person, { name: "ada", nick: "a" })).toBeNull();
    expect(check(person, { nick: "a" })).toMatch(/^Object is missing the required field `name`\. Consider wrapping/);
    const extra = check(person, { name: "ada", age: 36 });
    expect(extra).toMatch(/^Object contains extra field `age` that is not in the validator\./);
    expect(extra).toContain("Validator: v.object({name: v.string(), nick: v.optional(v.string())})");
  });

  test("mismatches name the path to the offending value", () => {
    const post = v.object({ meta: v.object({ tags: v.array(v.string()) }) });
    const message = check(post, { meta: { tags: ["a", 3] } });
    expect(message).toBe('Value does not match validator.\nPath: .meta.tags[1]\nValue: 3\nValidator: v.string()');
  });

  test("ids must decode and belong to the validator's table", () => {
    expect(check(v.id("users"), userId)).toBeNull();
    expect(check(v.id("users"), postId)).toBe(
      `Found ID "${postId}" from table \`posts\`, which does not match the table name in validator \`v.id("users")\`.`,
    );
    expect(check(v.id("users"), storageId)).toContain("from a system table");
    expect(check(v.id("_storage"), storageId)).toBeNull();
    expect(check(v.id("users"), "user_123")).toContain("Value does not match validator.");
    expect(check(v.id("users"), unknownTableId)).toContain("Value does not match validator.");
  });

  test("unions match any member; an empty union matches nothing", () => {
    const status = v.union(v.literal("draft"), v.literal("published"));
    expect(check(status, "draft")).toBeNull();
    expect(check(status, "deleted")).toContain('Validator: v.union(v.literal("draft"), v.literal("published"))');
    expect(check(v.nullable(v.string()), null)).toBeNull();
    expect(check(v.union(), null)).not.toBeNull();
    // A one-member union reports the member's own, more precise error.
    expect(check(v.union(v.object({ a: v.string() })), {})).toContain("missing the required field `a`");
  });

  test("literals compare by the total order of values, bigint literals included", () => {
    expect(check(v.literal(5n), 5n)).toBeNull();
    expect(check(v.literal(5n), 5)).toBe("`5` does not match literal validator `v.literal(5n)`.");
    expect(check(v.literal(5), 5)).toBeNull();
    expect(check(v.literal(true), true)).toBeNull();
    expect(check(v.literal("a"), "b")).not.toBeNull();
  });

  test("records check every key and value", () => {
    const scores = v.record(v.string(), v.number());
    expect(check(scores, { a: 1, b: 2 })).toBeNull();
    expect(check(scores, { a: 1, b: "2" })).toContain("Path: .values()");
    const byUser = v.record(v.id("users"), v.boolean());
    expect(check(byUser, { [userId]: true })).toBeNull();
    expect(check(byUser, { [postId]: true })).toContain("Path: .keys()");
    expect(check(scores, [1, 2])).toContain("Value does not match validator.");
  });
});
