import { describe, expect, test } from "vitest";
import {
  checkJsonDepth,
  formatBytes,
  measureValue,
  MAX_JSON_DEPTH,
  systemFieldsSize,
} from "../src/values/value-limits";

/** Deeply nested arrays built without recursion. */
function nestedArrays(levels: number): unknown {
  let value: unknown = 0;
  for (let i = 0; i < levels; i++) value = [value];
  return value;
}

/** Convex's own way of counting, checked against figures from the backend's `value` crate. */
describe("value limits: sizes and nesting as Convex counts them", () => {
  test("sizes of leaves, arrays and objects", () => {
    expect(measureValue(null)).toEqual({ size: 1, nesting: 0 });
    expect(measureValue(1.5).size).toBe(9);
    expect(measureValue(5n).size).toBe(9);
    expect(measureValue({ $integer: "BQAAAAAAAAA=" }).size).toBe(9);
    expect(measureValue({ $float: "AAAAAAAA+H8=" }).size).toBe(9);
    expect(measureValue(true).size).toBe(1);
    expect(measureValue("abc").size).toBe(5);
    // UTF-8 bytes, not UTF-16 units: é is 2 bytes, € 3, 😀 4.
    expect(measureValue("é€😀").size).toBe(2 + 2 + 3 + 4);
    expect(measureValue(new ArrayBuffer(10)).size).toBe(12);
    expect(measureValue({ $bytes: Buffer.alloc(10).toString("base64") }).size).toBe(12);
    expect(measureValue([])).toEqual({ size: 2, nesting: 1 });
    expect(measureValue([1, "a"])).toEqual({ size: 2 + 9 + 3, nesting: 1 });
    expect(measureValue({ ab: null, c: [[]] })).toEqual({ size: 2 + (2 + 1 + 1) + (1 + 1 + 2 + 2), nesting: 3 });
    // Undefined fields are dropped, as convexToJson drops them.
    expect(measureValue({ a: undefined, b: 1 }).size).toBe(2 + 2 + 9);
    expect(systemFieldsSize(32)).toBe(4 + 34 + 14 + 9);
  });

  test("an array of 8193 items, an object of 1025 fields, a lone surrogate are refused with Convex's messages", () => {
    expect(() => measureValue(new Array(8193).fill(0))).toThrow("Array length is too long (8193 > maximum length 8192)");
    expect(measureValue(new Array(8192).fill(0)).size).toBe(2 + 8192 * 9);
    const wide = Object.fromEntries(Array.from({ length: 1025 }, (_, i) => [`f${i}`, 0]));
    expect(() => measureValue(wide)).toThrow("Object has too many fields (1025 > maximum number 1024)");
    expect(() => measureValue({ text: "broken \ud800 pair" })).toThrow(/unpaired surrogate/);
  });

  test("nesting is refused on the way down, without recursion, however deep", () => {
    expect(measureValue(nestedArrays(64)).nesting).toBe(64);
    expect(() => measureValue(nestedArrays(65))).toThrow("Value is too nested (nested 65 levels deep > maximum nesting 64)");
    expect(() => measureValue(nestedArrays(1_000_000))).toThrow("Value is too nested (nested 65 levels deep > maximum nesting 64)");
  });

  test("JSON depth is checked right after parsing, iteratively", () => {
    const text = "[".repeat(200_000) + "]".repeat(200_000);
    const parsed: unknown = JSON.parse(text);
    expect(() => checkJsonDepth(parsed)).toThrow(`more than ${MAX_JSON_DEPTH} levels of JSON`);
    expect(() => checkJsonDepth(nestedArrays(MAX_JSON_DEPTH))).not.toThrow();
  });

  test("byte counts print as the backend prints them", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(1 << 20)).toBe("1 MiB");
    expect(formatBytes((1 << 24) + (1 << 20))).toBe("17 MiB");
  });
});
