import { compareValues, type Value } from "convex/values";
import { describe, expect, test } from "vitest";
import { compareKeys, indexKey, keyAfter, prefixRange, sortKey, successor } from "../src/values/index-key-codec";
import { createSeededRandom, type SeededRandom } from "./helpers/seeded-random";

const sign = (n: number) => (n < 0 ? -1 : n > 0 ? 1 : 0);

function float(bitsHex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${bitsHex}`));
  return view.getFloat64(0);
}

function bytes(...values: number[]): ArrayBuffer {
  return Uint8Array.from(values).buffer;
}

const INT_EDGES = [
  0n, 1n, -1n, 127n, 128n, -128n, -129n, 255n, 256n, 32767n, 32768n, -32768n, -32769n,
  2147483647n, 2147483648n, -2147483648n, -2147483649n, 2n ** 63n - 1n, -(2n ** 63n),
];
const FLOAT_EDGES = [
  0, -0, NaN, float("fff8000000000000"), Infinity, -Infinity, 1.5, -1.5, Number.MIN_VALUE,
  -Number.MIN_VALUE, Number.MAX_VALUE, -Number.MAX_VALUE, 5, 1e-300, -1e300,
];
const STRING_EDGES = ["", "a", "a\0", "a\0b", "a\0\0", "\0", "ab", "b", "\uFFFF", "😀", "é", "z".repeat(40)];
const FIELD_NAMES = ["", "a", "b", "ab", "B", "_x", "x y"];

function randomValue(r: SeededRandom, depth: number): Value {
  switch (r.int(depth > 2 ? 7 : 9)) {
    case 0:
      return null;
    case 1:
      return r.int(3) === 0 ? BigInt(r.int(2000) - 1000) : r.pick(INT_EDGES);
    case 2:
      return r.int(3) === 0 ? (r.next() - 0.5) * 10 ** r.int(12) : r.pick(FLOAT_EDGES);
    case 3:
      return r.int(2) === 0;
    case 4:
      return r.int(2) === 0 ? r.pick(STRING_EDGES) : String.fromCharCode(...Array.from({ length: r.int(4) }, () => r.pick([0, 97, 98, 0xe9, 0xffff])));
    case 5:
      return bytes(...Array.from({ length: r.int(4) }, () => r.pick([0, 1, 2, 255])));
    case 6:
      return r.pick(STRING_EDGES);
    case 7:
      return Array.from({ length: r.int(4) }, () => randomValue(r, depth + 1));
    default: {
      const obj: Record<string, Value> = {};
      for (let i = r.int(4); i > 0; i--) obj[r.pick(FIELD_NAMES)] = randomValue(r, depth + 1);
      return obj;
    }
  }
}

describe("index-key codec", () => {
  test("orders the interface spec's 36 sample values exactly like compareValues", () => {
    const sorted: Value[] = [
      null, -(2n ** 63n), -3n, 5n, 10n, 2n ** 63n - 1n, float("fff8000000000000"), -Infinity, -0, 0, 1.5, 5,
      Infinity, NaN, false, true, "", "a", "b", "\uFFFF", "😀", bytes(1), bytes(1, 0), bytes(2), [], [null],
      [1], [1, 2], [2], {}, { a: 1 }, { a: 1, b: 1 }, { a: 2 }, { b: 0 }, { x: 1 },
    ];
    for (let i = 1; i < sorted.length; i++) {
      expect(sign(compareValues(sorted[i - 1], sorted[i])), `${i}`).toBe(-1);
      expect(compareKeys(sortKey(sorted[i - 1]), sortKey(sorted[i])), `${i}`).toBeLessThan(0);
    }
    expect(compareKeys(sortKey(undefined), sortKey(null))).toBeLessThan(0);
  });

  test("uses the widths and tags of §1.2", () => {
    expect(sortKey(undefined).toString("hex")).toBe("01");
    expect(sortKey(null).toString("hex")).toBe("03");
    expect(sortKey(0n).toString("hex")).toBe("08");
    expect(sortKey(127n).toString("hex")).toBe("097f");
    expect(sortKey(200n).toString("hex")).toBe("0a00c8");
    expect(sortKey(-1n).toString("hex")).toBe("07ff");
    expect(sortKey(-129n).toString("hex")).toBe("06ff7f");
    expect(sortKey(2n ** 63n - 1n).toString("hex")).toBe("0c7fffffffffffffff");
    expect(sortKey(-0).toString("hex")).toBe("0d7fffffffffffffff");
    expect(sortKey(0).toString("hex")).toBe("0d8000000000000000");
    expect(sortKey(false).toString("hex")).toBe("0e");
    expect(sortKey("a").toString("hex")).toBe("106100");
    expect(sortKey("a\0").toString("hex")).toBe("106100ff00");
    expect(sortKey(bytes(0, 1)).toString("hex")).toBe("1100ff0100");
    expect(sortKey([1n]).toString("hex")).toBe("12090100");
    expect(sortKey({ "": null, a: true }).toString("hex")).toBe("1500ff0361000f00");
  });

  test("byte order equals compareValues order for 40 000 random pairs (seed 20260101)", () => {
    const r = createSeededRandom(20260101);
    for (let i = 0; i < 40_000; i++) {
      const a = randomValue(r, 0);
      const b = r.int(10) === 0 ? a : randomValue(r, 0);
      const expected = sign(compareValues(a, b));
      const actual = sign(compareKeys(sortKey(a), sortKey(b)));
      if (actual !== expected) {
        throw new Error(`order mismatch for ${String(JSON.stringify(a, replacer))} vs ${String(JSON.stringify(b, replacer))}`);
      }
    }
  });

  test("concatenated 2-tuples compare element-wise like compareValues (seed 99)", () => {
    const r = createSeededRandom(99);
    for (let i = 0; i < 20_000; i++) {
      const a: (Value | undefined)[] = [r.int(8) === 0 ? undefined : randomValue(r, 1), randomValue(r, 1)];
      const b: (Value | undefined)[] = [r.int(3) === 0 ? a[0] : randomValue(r, 1), randomValue(r, 1)];
      const first = sign(compareValues(a[0], b[0]));
      const expected = first !== 0 ? first : sign(compareValues(a[1], b[1]));
      expect(sign(compareKeys(indexKey(a), indexKey(b)))).toBe(expected);
    }
  });

  test("compareKeys orders byte strings as Buffer.compare does (equal, prefixes, any differing byte; seed 5)", () => {
    const rand = createSeededRandom(5);
    const bytes = (n: number) => Uint8Array.from({ length: n }, () => rand.int(4) * 85);
    for (let n = 0; n < 5000; n++) {
      // Lengths on both sides of the 32 bytes compareKeys compares itself.
      const a = bytes(rand.int(48));
      // Often b shares a's start: equal, a prefix of it, or differing after it.
      const b = rand.next() < 0.5 ? bytes(rand.int(48)) : Uint8Array.from([...a.subarray(0, rand.int(a.length + 1)), ...bytes(rand.int(3))]);
      expect(sign(compareKeys(a, b))).toBe(Buffer.compare(a, b));
      expect(sign(compareKeys(b, a))).toBe(Buffer.compare(b, a));
      expect(compareKeys(a, a)).toBe(0);
    }
  });

  test("prefixRange is the prefix and its successor, each with bytes of its own", () => {
    const tuples: (Value | undefined)[][] = [["a"], ["a\0b", 2], [undefined, null, true], [{ b: 1n, a: [1, "x"] }, new Uint8Array([0, 255]).buffer], ["é".repeat(40), -0]];
    for (const values of tuples) {
      const { lo, hi } = prefixRange(values);
      expect(Buffer.from(lo)).toEqual(indexKey(values));
      expect(Buffer.from(hi)).toEqual(successor(indexKey(values)));
      expect([lo.length, hi.length]).toEqual([indexKey(values).length, indexKey(values).length + 1]);
    }
    // Each call has bytes of its own, across arena rollovers (8 KiB) and for keys too long
    // for the arena: later encodings change none of the earlier ones.
    const strings = Array.from({ length: 2_000 }, (_, i) => (i % 100 === 0 ? "long ".repeat(60) : "") + `key ${i}`);
    const ranges = strings.map((s) => prefixRange([s, 1]));
    strings.forEach((s, i) => {
      expect(Buffer.from(ranges[i]!.lo)).toEqual(indexKey([s, 1]));
      expect(Buffer.from(ranges[i]!.hi)).toEqual(successor(indexKey([s, 1])));
    });
  });

  test("successor bounds exactly the keys extending a prefix, strings with NUL included", () => {
    const prefix = indexKey(["a"]);
    const inside = indexKey(["a", 1n, "id"]);
    const nulExtended = indexKey(["a\0", 1n, "id"]);
    const next = indexKey(["b"]);
    expect(compareKeys(inside, successor(prefix))).toBeLessThan(0);
    // "a\0" > "a" by compareValues, so it must lie beyond the prefix's successor.
    expect(compareKeys(nulExtended, successor(prefix))).toBeGreaterThanOrEqual(0);
    expect(compareKeys(successor(prefix), next)).toBeLessThan(0);
    const key = indexKey([5n, "x"]);
    expect(compareKeys(key, keyAfter(key))).toBeLessThan(0);
    expect(compareKeys(keyAfter(key), indexKey([5n, "x\0"]))).toBeLessThan(0);
  });
});

function replacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  if (value instanceof ArrayBuffer) return `bytes(${[...new Uint8Array(value)]})`;
  return value;
}
