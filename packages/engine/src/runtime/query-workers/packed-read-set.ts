import type { ReadSet } from "../../query/read-set.js";

/**
 * A read set in one ArrayBuffer, so a query worker hands it to the main thread as one
 * transferable (no structured clone of hundreds of small objects and byte arrays).
 *
 * Layout (little-endian): u32 interval count, u32 id count; per interval: u16 index
 * name length + UTF-8 bytes, u32 lo length + bytes, i32 hi length (-1 = unbounded) +
 * bytes; per id: u16 length + UTF-8 bytes. Index names and ids are ASCII in practice.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Packs a read set into a fresh buffer. */
export function packReadSet(readSet: ReadSet): ArrayBuffer {
  const names = readSet.intervals.map((i) => encoder.encode(i.index));
  const ids = readSet.ids.map((id) => encoder.encode(id));
  let size = 8;
  readSet.intervals.forEach((interval, n) => {
    size += 2 + names[n]!.length + 4 + interval.lo.length + 4 + (interval.hi?.length ?? 0);
  });
  for (const id of ids) size += 2 + id.length;
  const buffer = new ArrayBuffer(size);
  const view = new DataView(buffer);
  const bytes = new Uint8Array(buffer);
  let at = 0;
  view.setUint32(at, readSet.intervals.length, true);
  view.setUint32(at + 4, ids.length, true);
  at += 8;
  readSet.intervals.forEach((interval, n) => {
    const name = names[n]!;
    view.setUint16(at, name.length, true);
    bytes.set(name, at + 2);
    at += 2 + name.length;
    view.setUint32(at, interval.lo.length, true);
    bytes.set(interval.lo, at + 4);
    at += 4 + interval.lo.length;
    const hi = interval.hi;
    view.setInt32(at, hi === null ? -1 : hi.length, true);
    at += 4;
    if (hi !== null) {
      bytes.set(hi, at);
      at += hi.length;
    }
  });
  for (const id of ids) {
    view.setUint16(at, id.length, true);
    bytes.set(id, at + 2);
    at += 2 + id.length;
  }
  return buffer;
}

/** Unpacks `packReadSet`'s buffer; keys are views into it (Buffers, as the store's keys are). */
export function unpackReadSet(buffer: ArrayBuffer): ReadSet {
  const view = new DataView(buffer);
  const bytes = new Uint8Array(buffer);
  const intervalCount = view.getUint32(0, true);
  const idCount = view.getUint32(4, true);
  let at = 8;
  const intervals: ReadSet["intervals"] = [];
  for (let n = 0; n < intervalCount; n++) {
    const nameLength = view.getUint16(at, true);
    const index = decoder.decode(bytes.subarray(at + 2, at + 2 + nameLength));
    at += 2 + nameLength;
    const loLength = view.getUint32(at, true);
    const lo = Buffer.from(buffer, at + 4, loLength);
    at += 4 + loLength;
    const hiLength = view.getInt32(at, true);
    at += 4;
    let hi: Buffer | null = null;
    if (hiLength >= 0) {
      hi = Buffer.from(buffer, at, hiLength);
      at += hiLength;
    }
    intervals.push({ index, lo, hi });
  }
  const ids: string[] = [];
  for (let n = 0; n < idCount; n++) {
    const length = view.getUint16(at, true);
    ids.push(decoder.decode(bytes.subarray(at + 2, at + 2 + length)));
    at += 2 + length;
  }
  return { intervals, ids };
}

/**
 * A packed read set as the main thread receives it: unpacked on first use of `intervals`
 * or `ids`, and its bytes kept, so a subscription whose re-run read exactly what the last
 * run read (the usual case after a write elsewhere) is recognized by comparing bytes and
 * never unpacked or re-indexed (`samePackedReads`).
 */
class PackedReadSet implements ReadSet {
  private unpacked: ReadSet | null = null;

  constructor(readonly packed: Uint8Array) {}

  get intervals(): ReadSet["intervals"] {
    return (this.unpacked ??= unpackReadSet(this.packed.buffer as ArrayBuffer)).intervals;
  }

  get ids(): string[] {
    return (this.unpacked ??= unpackReadSet(this.packed.buffer as ArrayBuffer)).ids;
  }
}

/** `packReadSet`'s buffer as a read set unpacked when first read. */
export function lazyReadSet(buffer: ArrayBuffer): ReadSet {
  return new PackedReadSet(new Uint8Array(buffer));
}

/** True when both read sets came packed from a worker with equal bytes (the same reads, in the same order). */
export function samePackedReads(a: ReadSet | null, b: ReadSet): boolean {
  return a instanceof PackedReadSet && b instanceof PackedReadSet && Buffer.compare(a.packed, b.packed) === 0;
}
