import { CommitTsPlaceholder, type Value } from "convex/values";
import { EngineError } from "../errors";

/**
 * The order-preserving byte encoding of Convex values (docs/convex-interface.md §1.2).
 * Comparing two encodings with memcmp (SQLite BLOB order, `Buffer.compare`) gives the same
 * answer as `compareValues`, and an index key is the concatenation of its fields' encodings.
 */

const TAG_UNDEFINED = 0x01;
const TAG_NULL = 0x03;
const TAG_INT_ZERO = 0x08;
const TAG_FLOAT = 0x0d;
const TAG_FALSE = 0x0e;
const TAG_TRUE = 0x0f;
const TAG_STRING = 0x10;
const TAG_BYTES = 0x11;
const TAG_ARRAY = 0x12;
const TAG_OBJECT = 0x15;
const TERMINATOR = 0x00;
/** Follows an escaped 0x00 inside strings and bytes, and an empty field name. */
const ESCAPE = 0xff;
const MAX_INT64 = (1n << 63n) - 1n;

/** Tags of non-zero int64 by byte width: negatives sort below zero, narrow ones nearer it. */
const NEGATIVE_INT_TAG: Record<number, number> = { 1: 0x07, 2: 0x06, 4: 0x05, 8: 0x04 };
const POSITIVE_INT_TAG: Record<number, number> = { 1: 0x09, 2: 0x0a, 4: 0x0b, 8: 0x0c };

/**
 * A key larger than every encoded key: every encoding starts with a tag below 0xFF, so this
 * serves as the upper bound of an unbounded scan.
 */
export const MAX_KEY: Buffer = Buffer.from([0xff]);

/** An empty key, smaller than every encoded key. */
export const MIN_KEY: Buffer = Buffer.alloc(0);

/** Appends encodings into one growing buffer so that a key costs one allocation. */
class KeyWriter {
  private buf = Buffer.allocUnsafe(64);
  private len = 0;
  private readonly scratch = new DataView(new ArrayBuffer(8));

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.len++] = b;
  }

  escaped(bytes: Uint8Array): void {
    this.reserve(bytes.length * 2 + 1);
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      this.buf[this.len++] = b;
      if (b === 0) this.buf[this.len++] = ESCAPE;
    }
    this.buf[this.len++] = TERMINATOR;
  }

  string(s: string): void {
    // Short ASCII strings (ids, field names) are copied in a loop: cheaper than a native
    // call for a few dozen bytes.
    if (s.length <= 64) {
      this.reserve(s.length + 1);
      const start = this.len;
      let i = 0;
      for (; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c === 0 || c >= 0x80) break;
        this.buf[this.len++] = c;
      }
      if (i === s.length) {
        this.buf[this.len++] = TERMINATOR;
        return;
      }
      this.len = start;
    }
    // Strings compare by UTF-8 bytes, not UTF-16 units: encode before escaping.
    this.reserve(s.length * 6 + 1);
    if (s.indexOf("\0") === -1) {
      this.len += this.buf.write(s, this.len, "utf8");
      this.buf[this.len++] = TERMINATOR;
    } else {
      this.escaped(Buffer.from(s, "utf8"));
    }
  }

  float(n: number): void {
    this.scratch.setFloat64(0, n);
    let hi = this.scratch.getUint32(0);
    let lo = this.scratch.getUint32(4);
    // Negative numbers flip every bit (larger magnitude sorts lower), others only the sign.
    if (hi & 0x8000_0000) {
      hi = ~hi >>> 0;
      lo = ~lo >>> 0;
    } else {
      hi = (hi | 0x8000_0000) >>> 0;
    }
    this.reserve(9);
    this.buf[this.len++] = TAG_FLOAT;
    this.buf.writeUInt32BE(hi, this.len);
    this.buf.writeUInt32BE(lo, this.len + 4);
    this.len += 8;
  }

  int64(v: bigint): void {
    if (v === 0n) return this.byte(TAG_INT_ZERO);
    const width = v >= -128n && v <= 127n ? 1 : v >= -32768n && v <= 32767n ? 2 : v >= -2147483648n && v <= 2147483647n ? 4 : 8;
    this.reserve(9);
    this.buf[this.len++] = v < 0n ? NEGATIVE_INT_TAG[width] : POSITIVE_INT_TAG[width];
    const bits = BigInt.asUintN(64, v);
    for (let i = width - 1; i >= 0; i--) this.buf[this.len++] = Number((bits >> BigInt(i * 8)) & 0xffn);
  }

  value(v: Value | undefined): void {
    if (v === undefined) return this.byte(TAG_UNDEFINED);
    if (v === null) return this.byte(TAG_NULL);
    switch (typeof v) {
      case "bigint":
        return this.int64(v);
      case "number":
        return this.float(v);
      case "boolean":
        return this.byte(v ? TAG_TRUE : TAG_FALSE);
      case "string":
        this.byte(TAG_STRING);
        return this.string(v);
    }
    if (v instanceof ArrayBuffer) {
      this.byte(TAG_BYTES);
      return this.escaped(new Uint8Array(v));
    }
    if (v instanceof CommitTsPlaceholder) {
      // compareValues treats the unresolved commit ts as the largest int64.
      return this.int64(MAX_INT64);
    }
    if (Array.isArray(v)) {
      this.byte(TAG_ARRAY);
      for (const element of v) this.value(element);
      return this.byte(TERMINATOR);
    }
    if (typeof v === "object") {
      this.byte(TAG_OBJECT);
      // Field names are printable ASCII, so JS sort order equals UTF-8 byte order.
      for (const name of Object.keys(v).sort()) {
        const field = (v as Record<string, Value | undefined>)[name];
        if (field === undefined) continue;
        this.string(name);
        // An empty name would otherwise be indistinguishable from the object's end.
        if (name === "") this.byte(ESCAPE);
        this.value(field);
      }
      return this.byte(TERMINATOR);
    }
    throw new EngineError("InvalidValue", `${String(v)} is not a supported Convex value`);
  }

  reset(): this {
    this.len = 0;
    return this;
  }

  /**
   * The bytes written, whose last is the 0xFF of a `successor`, as `prefixRange`'s pair of
   * views into the key arena (see there); a long key as a Buffer of its own.
   */
  cutRange(): { lo: Uint8Array; hi: Uint8Array } {
    const len = this.len;
    if (len > MAX_ARENA_KEY) {
      const hi = this.finish();
      return { lo: hi.subarray(0, len - 1), hi };
    }
    if (arenaUsed + len > ARENA_SIZE) {
      arena = new ArrayBuffer(ARENA_SIZE);
      arenaBytes = new Uint8Array(arena);
      arenaUsed = 0;
    }
    const start = arenaUsed;
    const buf = this.buf;
    for (let i = 0; i < len; i++) arenaBytes[start + i] = buf[i];
    arenaUsed += len;
    return { lo: new Uint8Array(arena, start, len - 1), hi: new Uint8Array(arena, start, len) };
  }

  finish(): Buffer {
    // allocUnsafe + copy is a native memcpy; Buffer.from(view) copies byte by byte in JS.
    const out = Buffer.allocUnsafe(this.len);
    this.buf.copy(out, 0, 0, this.len);
    return out;
  }
}

/**
 * The bytes `prefixRange` cuts its keys from, as Node cuts small Buffers from its pool, but
 * as plain Uint8Array views: no `FastBuffer` constructor and no `copy` in JS per key (those
 * were two thirds of the cost of an eq-prefix range), and no copy at all for `lo`. A view
 * keeps its arena alive while a read set holds it; keys are never changed in place.
 */
const ARENA_SIZE = 8192;
/** Longer keys get a Buffer of their own, so that one cannot pin a mostly unused arena. */
const MAX_ARENA_KEY = 256;
let arena = new ArrayBuffer(ARENA_SIZE);
let arenaBytes = new Uint8Array(arena);
let arenaUsed = 0;

/** One writer reused by every call: encoding never re-enters, so sharing it is safe. */
const shared = new KeyWriter();

/** The sort key of one value; `undefined` (a missing field) sorts below everything. */
export function sortKey(value: Value | undefined): Buffer {
  const writer = shared.reset();
  writer.value(value);
  return writer.finish();
}

/** The concatenated sort keys of a tuple of values: an index key or a key prefix. */
export function indexKey(values: ReadonlyArray<Value | undefined>): Buffer {
  const writer = shared.reset();
  for (const value of values) writer.value(value);
  return writer.finish();
}

/**
 * The keys that extend the concatenated sort keys of `values`: `lo` is that prefix and `hi`
 * its `successor`, made with one copy into the key arena (`lo` is a view of `hi`'s first
 * bytes), as plain Uint8Arrays (what `KeyRange` holds; SQLite binds any byte view). For
 * `withIndex` ranges of `eq`s, built once per `first()`.
 */
export function prefixRange(values: ReadonlyArray<Value | undefined>): { lo: Uint8Array; hi: Uint8Array } {
  const writer = shared.reset();
  for (const value of values) writer.value(value);
  writer.byte(ESCAPE);
  return writer.cutRange();
}

/**
 * The smallest byte string above every key that extends `prefix`, where `prefix` is a
 * concatenation of complete sort keys. Valid continuations start with a tag (0x01..0x15),
 * so `prefix ‖ 0xFF` is that bound. It is exact where the backend's "increment the last
 * byte" is not: `"a"` is a prefix of `"a\0"` (`10 61 00` vs `10 61 00 FF 00`), and only
 * the 0xFF form keeps `"a\0"` out of `Eq "a"` and inside `Gt "a"`, as `compareValues` says.
 */
export function successor(prefix: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(prefix.length + 1);
  out.set(prefix, 0);
  out[prefix.length] = ESCAPE;
  return out;
}

/** The smallest byte string strictly greater than `key` (for "after this key" bounds). */
export function keyAfter(key: Uint8Array): Buffer {
  const out = Buffer.alloc(key.length + 1);
  out.set(key, 0);
  return out;
}

/**
 * memcmp order of two keys (bytewise, then the shorter first): negative, zero or positive,
 * as `Buffer.compare` orders them. Its first bytes are compared here because it is on hot
 * paths (a commit's keys against every subscriber's intervals on the main thread, tens of
 * thousands of compares per commit in a fan-out; the query cache's and a scan's bounds)
 * and keys that differ mostly differ early (ids begin with their creation time), where a
 * loop has its answer long before a call into `Buffer.compare` returns; keys equal for
 * longer go to `Buffer.compare`, which is faster past ~30 equal bytes. Micro-benchmark,
 * 1,000 keys (ns per compare, loaded machine): 4 equal bytes 20–127 against 85–298, 100
 * equal bytes 129–140 against 90–113 (a loop to the end: 196–236).
 * test/index-key-codec.test.ts compares the two.
 */
export function compareKeys(a: Uint8Array, b: Uint8Array): number {
  const n = a.length < b.length ? a.length : b.length;
  const head = n < COMPARED_HERE ? n : COMPARED_HERE;
  for (let i = 0; i < head; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return n > COMPARED_HERE ? Buffer.compare(a, b) : a.length - b.length;
}

/** How many leading bytes `compareKeys` compares itself. */
const COMPARED_HERE = 32;
