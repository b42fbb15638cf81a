import type { ReadSet } from "../../query/read-set.js";

/**
 * A read set in one ArrayBuffer, so a query worker hands it to the main thread as one
 * transferable (no structured clone of hundreds of small objects and byte arrays).
 *
 * Layout (little-endian): u32 interval count, u32 id count; per interval: u16 index
 * name length + UTF-8 bytes, u32 lo length + bytes, i32 hi length (-1 = unbounded) +
 * bytes; per id: u16 length + UTF-8 bytes. Index names and ids are ASCII in practice.
 */

/** Index names seen so far, encoded (a worker reads a few dozen indexes, run after run). */
const nameBytes = new Map<string, Buffer>();
const MAX_NAMES = 4_096;

function encodedName(name: string): Buffer {
  let bytes = nameBytes.get(name);
  if (bytes === undefined) {
    bytes = Buffer.from(name, "utf8");
    if (nameBytes.size < MAX_NAMES) nameBytes.set(name, bytes);
  }
  return bytes;
}

/** Packs a read set into a fresh buffer. */
export function packReadSet(readSet: ReadSet): ArrayBuffer {
  const { intervals, ids } = readSet;
  let size = 8;
  for (const interval of intervals) {
    size += 2 + encodedName(interval.index).length + 4 + interval.lo.length + 4 + (interval.hi?.length ?? 0);
  }
  for (const id of ids) size += 2 + Buffer.byteLength(id, "utf8");
  const buffer = new ArrayBuffer(size);
  const bytes = Buffer.from(buffer);
  let at = 8;
  bytes.writeUInt32LE(intervals.length, 0);
  bytes.writeUInt32LE(ids.length, 4);
  for (const interval of intervals) {
    const name = encodedName(interval.index);
    bytes.writeUInt16LE(name.length, at);
    bytes.set(name, at + 2);
    at += 2 + name.length;
    bytes.writeUInt32LE(interval.lo.length, at);
    bytes.set(interval.lo, at + 4);
    at += 4 + interval.lo.length;
    const hi = interval.hi;
    bytes.writeInt32LE(hi === null ? -1 : hi.length, at);
    at += 4;
    if (hi !== null) {
      bytes.set(hi, at);
      at += hi.length;
    }
  }
  for (const id of ids) {
    const length = bytes.write(id, at + 2, "utf8");
    bytes.writeUInt16LE(length, at);
    at += 2 + length;
  }
  return buffer;
}

/** Unpacks `packReadSet`'s buffer; keys are views into it (Buffers, as the store's keys are). */
export function unpackReadSet(buffer: ArrayBuffer): ReadSet {
  const bytes = Buffer.from(buffer);
  const intervalCount = bytes.readUInt32LE(0);
  const idCount = bytes.readUInt32LE(4);
  let at = 8;
  const intervals: ReadSet["intervals"] = [];
  for (let n = 0; n < intervalCount; n++) {
    const nameLength = bytes.readUInt16LE(at);
    const index = bytes.toString("utf8", at + 2, at + 2 + nameLength);
    at += 2 + nameLength;
    const loLength = bytes.readUInt32LE(at);
    const lo = Buffer.from(buffer, at + 4, loLength);
    at += 4 + loLength;
    const hiLength = bytes.readInt32LE(at);
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
    const length = bytes.readUInt16LE(at);
    ids.push(bytes.toString("utf8", at + 2, at + 2 + length));
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
