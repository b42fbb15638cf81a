import { expect, test } from "vitest";
import { packAnyReadSet, packReadSet, unpackReadSet } from "../src/runtime/query-workers/packed-read-set";
import type { ReadSet } from "../src/query/read-set";

/**
 * A query worker packs its read set (`packReadSet`) with ASCII ids written char by char;
 * the general packing (`packAnyReadSet`, ids as UTF-8) is the reference: the same bytes,
 * and what unpacks to the same read set.
 */

const readSet = (ids: string[]): ReadSet => ({
  intervals: [
    { index: "posts.by_creation_time", lo: Buffer.from([1, 2, 3]), hi: null },
    { index: "likes.by_user_and_post", lo: Buffer.alloc(300, 7), hi: Buffer.alloc(301, 7) },
    { index: "ünï.idx", lo: Buffer.alloc(0), hi: Buffer.from([255]) },
  ],
  ids,
});

test("gives the general packing's bytes, for ASCII ids and for others, and unpacks to the same read set", () => {
  for (const ids of [[], ["k57a8b3f9x2m4n6p8q0r2s4t6v8w0y2z", "j1"], ["ascii", "ünï", "😀"], ["x".repeat(300)]]) {
    const set = readSet(ids);
    const packed = Buffer.from(packReadSet(set));
    expect(packed.equals(Buffer.from(packAnyReadSet(set)))).toBe(true);
    const unpacked = unpackReadSet(packReadSet(set));
    expect(unpacked.ids).toEqual(ids);
    expect(unpacked.intervals.map((i) => [i.index, [...i.lo], i.hi === null ? null : [...i.hi]])).toEqual(
      set.intervals.map((i) => [i.index, [...i.lo], i.hi === null ? null : [...i.hi]]),
    );
  }
});
