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

/**
 * Packs a read set into a fresh buffer (on the query worker, after the run). Lengths are
 * written byte by byte and ids, ASCII in practice, char by char: ~30% less time than
 * Buffer's `write*` methods and one `Buffer.write` per id (a native call each). An id
 * that is not ASCII sends the whole set the general way (`packAnyReadSet`).
 */
export function packReadSet(readSet: ReadSet): ArrayBuffer {
  const { intervals, ids } = readSet;
  const names: Buffer[] = new Array<Buffer>(intervals.length);
  let size = 8;
  for (let n = 0; n < intervals.length; n++) {
    const interval = intervals[n]!;
    const name = (names[n] = encodedName(interval.index));
    size += 2 + name.length + 4 + interval.lo.length + 4 + (interval.hi?.length ?? 0);
  }
  // An ASCII id takes one byte per character.
  for (let n = 0; n < ids.length; n++) size += 2 + ids[n]!.length;
  const buffer = new ArrayBuffer(size);
  const bytes = new Uint8Array(buffer);
  writeU32(bytes, 0, intervals.length);
  writeU32(bytes, 4, ids.length);
  let at = 8;
  for (let n = 0; n < intervals.length; n++) {
    const interval = intervals[n]!;
    const name = names[n]!;
    bytes[at] = name.length & 0xff;
    bytes[at + 1] = name.length >>> 8;
    bytes.set(name, at + 2);
    at += 2 + name.length;
    const lo = interval.lo;
    writeU32(bytes, at, lo.length);
    bytes.set(lo, at + 4);
    at += 4 + lo.length;
    const hi = interval.hi;
    if (hi === null) {
      // -1: unbounded.
      writeU32(bytes, at, 0xffffffff);
      at += 4;
    } else {
      writeU32(bytes, at, hi.length);
      bytes.set(hi, at + 4);
      at += 4 + hi.length;
    }
  }
  for (let n = 0; n < ids.length; n++) {
    const id = ids[n]!;
    const length = id.length;
    bytes[at] = length & 0xff;
    bytes[at + 1] = length >>> 8;
    at += 2;
    for (let i = 0; i < length; i++) {
      const c = id.charCodeAt(i);
      if (c > 0x7f) return packAnyReadSet(readSet);
      bytes[at + i] = c;
    }
    at += length;
  }
  return buffer;
}

/** Writes `value` (below 2^32) little-endian at `at`. */
function writeU32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value & 0xff;
  bytes[at + 1] = (value >>> 8) & 0xff;
  bytes[at + 2] = (value >>> 16) & 0xff;
  bytes[at + 3] = value >>> 24;
}

/** `packReadSet` for any read set: ids measured and written as UTF-8. */
export function packAnyReadSet(readSet: ReadSet): ArrayBuffer {
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
 * never unpacked or re-indexed (`samePackedReads`), and one that read nearly the same is
 * re-indexed only where its bytes differ (`changedReads`).
 */
class PackedReadSet implements ReadSet {
  private unpacked: ReadSet | null = null;
  private view: Buffer | null = null;

  constructor(readonly packed: Uint8Array) {}

  /** The same bytes as a Buffer (for `compare` over ranges), made once, when first compared. */
  get bytes(): Buffer {
    return (this.view ??= Buffer.from(this.packed.buffer, this.packed.byteOffset, this.packed.byteLength));
  }

  get intervals(): ReadSet["intervals"] {
    return (this.unpacked ??= unpackReadSet(this.packed.buffer as ArrayBuffer)).intervals;
  }

  get ids(): string[] {
    return (this.unpacked ??= unpackReadSet(this.packed.buffer as ArrayBuffer)).ids;
  }

  /** True once `intervals` or `ids` was read (or `changedReads` filled them in). */
  get isUnpacked(): boolean {
    return this.unpacked !== null;
  }

  /** Sets what unpacking would give (entries equal to this read set's, by bytes); null: unpack again when read. */
  adopt(unpacked: ReadSet | null): void {
    this.unpacked = unpacked;
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

/** How a run's reads differ from the previous run's: the entries only one of them has. */
export interface ReadSetChange {
  /** The new read set, unpacked: the previous one's entry objects where the bytes agree. */
  readSet: ReadSet;
  removedIntervals: ReadSet["intervals"];
  addedIntervals: ReadSet["intervals"];
  removedIds: string[];
  addedIds: string[];
}

/**
 * Compares two packed read sets entry by entry (no strings or keys made for the entries
 * they share): the entries before the first difference and after the last one, in each
 * section, are kept as the previous read set's objects (in its arrays, which `next` takes
 * over); only those in between are decoded, with their keys copied out of `next`'s buffer
 * (so the entries kept over many runs hold on to the buffer of one full unpack at most,
 * never to one per run). Null when
 * either is not packed, `previous` was never unpacked (nothing was indexed from it), or
 * more than half of the entries changed (a full re-index is as cheap). Runs on the thread
 * that indexes read sets (the sync server's).
 */
export function changedReads(previous: ReadSet | null, next: ReadSet): ReadSetChange | null {
  if (!(previous instanceof PackedReadSet) || !(next instanceof PackedReadSet) || !previous.isUnpacked) return null;
  const before = previous.bytes;
  const after = next.bytes;
  const old = oldOffsets.fill(before);
  const now = newOffsets.fill(after);
  const intervals = sharedEnds(before, old, 0, old.intervals, after, now, 0, now.intervals);
  const ids = sharedEnds(before, old, old.intervals + 1, old.ids, after, now, now.intervals + 1, now.ids);
  const total = old.intervals + old.ids + now.intervals + now.ids;
  const changed = intervals.removed + intervals.added + ids.removed + ids.added;
  if (changed > total / 2) return null;
  const oldIntervals = previous.intervals;
  const oldIds = previous.ids;
  const addedIntervals: ReadSet["intervals"] = [];
  for (let n = intervals.head; n < intervals.head + intervals.added; n++) addedIntervals.push(intervalAt(after, now.at[n]!));
  const addedIds: string[] = [];
  for (let n = ids.head; n < ids.head + ids.added; n++) addedIds.push(idAt(after, now.at[now.intervals + 1 + n]!));
  // The previous run's arrays become the new run's, edited in place: no copies of a feed's
  // hundred entries per re-run, and nothing more for the thread's next collections to move
  // into the old generation. `previous` forgets them and unpacks from its bytes if read again.
  const removedIntervals = oldIntervals.splice(intervals.head, intervals.removed, ...addedIntervals);
  const removedIds = oldIds.splice(ids.head, ids.removed, ...addedIds);
  previous.adopt(null);
  next.adopt({ intervals: oldIntervals, ids: oldIds });
  return { readSet: next, removedIntervals, addedIntervals, removedIds, addedIds };
}

/**
 * Where each entry of a packed read set starts, per section: `at[0..intervals]` are the
 * interval entries' starts and then the end of the last one, `at[intervals + 1..]` the same
 * for the ids. Two are kept for the life of the thread and refilled by every
 * `changedReads` (it runs a thousand times per fan-out on the sync server's thread, one
 * pair at a time: no offset arrays per run).
 */
class EntryOffsets {
  at = new Int32Array(256);
  intervals = 0;
  ids = 0;

  /** Reads the offsets of `b` (lengths read byte by byte: no bounds-checked reads per field). */
  fill(b: Buffer): this {
    const u32 = (at: number) => (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 0x1000000;
    const intervalCount = u32(0);
    const idCount = u32(4);
    if (this.at.length < intervalCount + idCount + 2) this.at = new Int32Array(2 * (intervalCount + idCount + 2));
    const offsets = this.at;
    let at = 8;
    let slot = 0;
    offsets[slot++] = at;
    for (let n = 0; n < intervalCount; n++) {
      at += 2 + (b[at]! | (b[at + 1]! << 8));
      at += 4 + u32(at);
      const hiLength = u32(at);
      // -1 (unbounded) reads as 0xffffffff.
      at += 4 + (hiLength === 0xffffffff ? 0 : hiLength);
      offsets[slot++] = at;
    }
    offsets[slot++] = at;
    for (let n = 0; n < idCount; n++) {
      at += 2 + (b[at]! | (b[at + 1]! << 8));
      offsets[slot++] = at;
    }
    this.intervals = intervalCount;
    this.ids = idCount;
    return this;
  }
}

const oldOffsets = new EntryOffsets();
const newOffsets = new EntryOffsets();

/**
 * How many entries of a section the two share at its start (`head`), and how many
 * entries between the shared start and the shared end each has (`removed`, `added`);
 * the section's `count` entries start at `at[from]`. The shared bytes at each end are
 * found by binary search with whole-range compares (memcmp), then turned into whole
 * entries: entries parse the same from the section start, and from any offset that starts
 * an entry in both at the same distance from the section end.
 */
function sharedEnds(a: Buffer, aOffsets: EntryOffsets, aFrom: number, aCount: number, b: Buffer, bOffsets: EntryOffsets, bFrom: number, bCount: number): { head: number; removed: number; added: number } {
  const aAt = aOffsets.at;
  const bAt = bOffsets.at;
  const aStart = aAt[aFrom]!;
  const bStart = bAt[bFrom]!;
  const aEnd = aAt[aFrom + aCount]!;
  const bEnd = bAt[bFrom + bCount]!;
  const shortest = Math.min(aEnd - aStart, bEnd - bStart);
  const prefix = longestShared(a, aStart, b, bStart, shortest, false);
  let head = 0;
  while (head < aCount && head < bCount && aAt[aFrom + head + 1]! - aStart <= prefix) head++;
  const headBytes = aAt[aFrom + head]! - aStart;
  const suffix = longestShared(a, aEnd, b, bEnd, shortest - headBytes, true);
  let tail = 0;
  while (tail < aCount - head && tail < bCount - head) {
    const fromEnd = aEnd - aAt[aFrom + aCount - 1 - tail]!;
    if (fromEnd > suffix || fromEnd !== bEnd - bAt[bFrom + bCount - 1 - tail]!) break;
    tail++;
  }
  return { head, removed: aCount - head - tail, added: bCount - head - tail };
}

/**
 * The largest m in [0, most] for which the m bytes of `a` and `b` after `aEdge`/`bEdge`
 * (before them, `fromEnd`) are equal: a binary search, as equal runs stay equal when shortened.
 */
function longestShared(a: Buffer, aEdge: number, b: Buffer, bEdge: number, most: number, fromEnd: boolean): number {
  const same = (m: number) => (fromEnd ? a.compare(b, bEdge - m, bEdge, aEdge - m, aEdge) : a.compare(b, bEdge, bEdge + m, aEdge, aEdge + m)) === 0;
  if (most <= 0 || same(most)) return Math.max(0, most);
  let low = 0;
  let high = most - 1;
  while (low < high) {
    const mid = (low + high + 1) >>> 1;
    if (same(mid)) low = mid;
    else high = mid - 1;
  }
  return low;
}

function intervalAt(bytes: Buffer, at: number): ReadSet["intervals"][number] {
  const nameLength = bytes.readUInt16LE(at);
  const index = bytes.toString("utf8", at + 2, at + 2 + nameLength);
  at += 2 + nameLength;
  const loLength = bytes.readUInt32LE(at);
  const lo = Buffer.from(bytes.subarray(at + 4, at + 4 + loLength));
  at += 4 + loLength;
  const hiLength = bytes.readInt32LE(at);
  const hi = hiLength >= 0 ? Buffer.from(bytes.subarray(at + 4, at + 4 + hiLength)) : null;
  return { index, lo, hi };
}

function idAt(bytes: Buffer, at: number): string {
  return bytes.toString("utf8", at + 2, at + 2 + bytes.readUInt16LE(at));
}
