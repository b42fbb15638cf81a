import type { ReadSet } from "../../query/read-set.js";
import { unpackReadSet } from "./packed-read-set.js";

// A worker's packed read set (`packed-read-set.ts`) as the main thread keeps it, and how two
// of them differ (runs on the thread that indexes read sets: the sync server's).

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

  /** The bytes: a view into the worker's answer until kept (`keep`), then a copy of their own. */
  constructor(private packed: Uint8Array) {}

  /** The same bytes as a Buffer (for `compare` over ranges), made once, when first compared. */
  get bytes(): Buffer {
    return (this.view ??= Buffer.isBuffer(this.packed) ? this.packed : Buffer.from(this.packed.buffer, this.packed.byteOffset, this.packed.byteLength));
  }

  get intervals(): ReadSet["intervals"] {
    return (this.unpacked ??= this.unpack()).intervals;
  }

  get ids(): string[] {
    return (this.unpacked ??= this.unpack()).ids;
  }

  /** True once `intervals` or `ids` was read (or `changedReads` filled them in). */
  get isUnpacked(): boolean {
    return this.unpacked !== null;
  }

  /** True when `other` has the same bytes. */
  sameBytes(other: PackedReadSet): boolean {
    return Buffer.compare(this.packed, other.packed) === 0;
  }

  /**
   * Copies the bytes out of the worker's answer, if they are a view into one. A subscription
   * keeps its read set until a run reads something else, often for many runs: a view would
   * keep the whole answer (the result's bytes too) outside the JavaScript heap that long,
   * and such memory, once it survived two scavenges, is freed only by a full collection
   * (`ownBytes` in `sync/server-message.ts` says why that is costly).
   */
  keep(): void {
    const { packed } = this;
    if (packed.byteOffset === 0 && packed.byteLength === packed.buffer.byteLength) return;
    // `new Uint8Array(view)` copies (a Buffer's `slice` would not).
    this.packed = new Uint8Array(packed);
    this.view = null;
  }

  /**
   * The unpacked entries, their keys views into a buffer of the read set's own: one that
   * came inside a worker's answer (`packed-answer.ts`) is copied out first, so entries kept
   * run after run never hold on to a result's bytes.
   */
  private unpack(): ReadSet {
    this.keep();
    return unpackReadSet(this.packed.buffer as ArrayBuffer);
  }

  /** Sets what unpacking would give (entries equal to this read set's, by bytes); null: unpack again when read. */
  adopt(unpacked: ReadSet | null): void {
    this.unpacked = unpacked;
  }
}

/** `packReadSet`'s bytes (its buffer, or a view of them inside a worker's answer) as a read set unpacked when first read. */
export function lazyReadSet(packed: ArrayBuffer | Uint8Array): ReadSet {
  return new PackedReadSet(packed instanceof Uint8Array ? packed : new Uint8Array(packed));
}

/** True when both read sets came packed from a worker with equal bytes (the same reads, in the same order). */
export function samePackedReads(a: ReadSet | null, b: ReadSet): boolean {
  return a instanceof PackedReadSet && b instanceof PackedReadSet && a.sameBytes(b);
}

/**
 * Marks a read set as kept past its run (a subscription's, until a later run reads something
 * else): a packed one copies its bytes out of the worker's answer (`PackedReadSet.keep`).
 */
export function keepReadSet(readSet: ReadSet): void {
  if (readSet instanceof PackedReadSet) readSet.keep();
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
  if (most <= 0 || sameRun(a, aEdge, b, bEdge, most, fromEnd)) return Math.max(0, most);
  let low = 0;
  let high = most - 1;
  while (low < high) {
    const mid = (low + high + 1) >>> 1;
    if (sameRun(a, aEdge, b, bEdge, mid, fromEnd)) low = mid;
    else high = mid - 1;
  }
  return low;
}

/** True when the `m` bytes after (`fromEnd`: before) the edges are equal. A function, not a closure per search. */
function sameRun(a: Buffer, aEdge: number, b: Buffer, bEdge: number, m: number, fromEnd: boolean): boolean {
  return (fromEnd ? a.compare(b, bEdge - m, bEdge, aEdge - m, aEdge) : a.compare(b, bEdge, bEdge + m, aEdge, aEdge + m)) === 0;
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
