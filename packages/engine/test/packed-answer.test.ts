import { expect, test } from "vitest";
import { packAnswer, packedAnswer } from "../src/runtime/query-workers/packed-answer";
import { packReadSet } from "../src/runtime/query-workers/packed-read-set";
import { changedReads, keepReadSet, lazyReadSet, samePackedReads } from "../src/runtime/query-workers/received-read-set";
import type { ReadSet } from "../src/query/read-set";

/**
 * A query worker's success crosses to the main thread as one buffer (`packed-answer.ts`):
 * what the main thread reads from it is what the worker put in, field by field, and the
 * read set inside it behaves as one that came in a buffer of its own.
 */

const reads = (ids: string[]): ReadSet => ({
  intervals: [
    { index: "posts.by_creation_time", lo: Buffer.from([1, 2, 3]), hi: null },
    { index: "likes.by_user_and_post", lo: Buffer.alloc(30, 7), hi: Buffer.alloc(31, 8) },
  ],
  ids,
});

/** A read set as it reaches the main thread: inside a worker's answer, read lazily. */
const inAnswer = (set: ReadSet) =>
  lazyReadSet(packedAnswer.readSet(Buffer.from(packAnswer({ id: 1, ts: 1n, journal: null, logLines: [], readSet: packReadSet(set), valueText: '"v"', drops: { unannounced: 0, gap: 0 } })))!);

/** `changedReads` from `previous` to `next`, `previous` unpacked first (the registry only compares against an indexed read set). */
function changeFrom(previous: ReadSet, next: ReadSet) {
  void previous.ids;
  return changedReads(previous, next)!;
}

const plain = (set: ReadSet) => ({ intervals: set.intervals.map((i) => [i.index, [...i.lo], i.hi === null ? null : [...i.hi]]), ids: set.ids });

test("every field comes back as the worker wrote it, with and without a journal, log lines and a read set", () => {
  const cases = [
    { id: 1, ts: 0n, journal: null, logLines: [], readSet: null, valueText: "null", drops: { unannounced: 0, gap: 0 } },
    {
      id: 2 ** 40 + 3,
      ts: 1_765_000_000_000_123n,
      journal: '{"cursor":"ünï"}',
      logLines: ["[LOG] 'a'", "lone \ud800 surrogate", "😀"],
      readSet: packReadSet(reads(["k57a8b3f9x2m4n6p8q0r2s4t6v8w0y2z", "j1"])),
      valueText: '{"posts":[{"title":"ünï 😀","n":1.5}]}',
      drops: { unannounced: 3, gap: 7 },
    },
    { id: 3, ts: 5n, journal: null, logLines: ["only a log line"], readSet: packReadSet({ intervals: [], ids: [] }), valueText: '"x"', drops: { unannounced: 1, gap: 0 } },
    { id: 4, ts: 6n, journal: "j", logLines: [], readSet: null, valueText: "[]", drops: { unannounced: 0, gap: 2 } },
  ];
  for (const fields of cases) {
    const expectedReads = fields.readSet === null ? null : [...new Uint8Array(fields.readSet.slice(0))];
    const bytes = Buffer.from(packAnswer(fields));
    expect(packedAnswer.id(bytes)).toBe(fields.id);
    expect(packedAnswer.ts(bytes)).toBe(fields.ts);
    expect(packedAnswer.journal(bytes)).toBe(fields.journal);
    expect(packedAnswer.logLines(bytes)).toEqual(fields.logLines);
    expect(packedAnswer.unannounced(bytes)).toBe(fields.drops.unannounced);
    expect(packedAnswer.gap(bytes)).toBe(fields.drops.gap);
    expect(packedAnswer.value(bytes).toString("utf8")).toBe(fields.valueText);
    const readSet = packedAnswer.readSet(bytes);
    expect(readSet === null ? null : [...readSet]).toEqual(expectedReads);
  }
});

test("a read set inside an answer unpacks, compares and re-indexes as one in a buffer of its own, and keeps no answer's bytes", () => {
  const first = reads(["a1", "b2", "c3"]);
  const second = reads(["a1", "b2", "d4", "c3"]);
  const alone = (set: ReadSet) => lazyReadSet(packReadSet(set));
  expect(plain(inAnswer(first))).toEqual(plain(alone(first)));
  expect(samePackedReads(inAnswer(first), inAnswer(first))).toBe(true);
  expect(samePackedReads(inAnswer(first), inAnswer(second))).toBe(false);
  const change = changeFrom(inAnswer(first), inAnswer(second));
  const expected = changeFrom(alone(first), alone(second));
  expect(plain(change.readSet)).toEqual(plain(expected.readSet));
  expect(change.addedIds).toEqual(expected.addedIds);
  expect(change.removedIds).toEqual(expected.removedIds);
  // Unpacked keys are views into a copy of the read set's bytes, not into the answer's buffer.
  const unpacked = inAnswer(first);
  for (const interval of unpacked.intervals) expect(interval.lo.buffer.byteLength).toBe(packReadSet(first).byteLength);
});

test("a kept read set holds its bytes apart from the answer and compares, re-indexes and unpacks as a fresh one", () => {
  // A subscription keeps its read set run after run (`keepReadSet`); the next run's arrives
  // fresh, inside its answer. Kept and fresh must agree on every question the registry asks.
  const fresh = inAnswer;
  const kept = (set: ReadSet) => {
    const readSet = fresh(set);
    keepReadSet(readSet);
    return readSet;
  };
  const first = reads(["a1", "b2", "c3"]);
  const sameLength = reads(["a1", "b2", "c4"]);
  const second = reads(["a1", "b2", "d4", "c3"]);
  for (const [a, b] of [[kept, fresh], [fresh, kept], [kept, kept], [fresh, fresh]] as const) {
    expect(samePackedReads(a(first), b(first))).toBe(true);
    expect(samePackedReads(a(first), b(sameLength))).toBe(false);
    expect(samePackedReads(a(first), b(second))).toBe(false);
  }
  const many = reads(Array.from({ length: 3_000 }, (_, n) => `id${n}`));
  expect(samePackedReads(kept(many), fresh(many))).toBe(true);
  expect(samePackedReads(fresh(many), kept(reads(Array.from({ length: 3_000 }, (_, n) => `id${n === 2_999 ? "x" : n}`))))).toBe(false);
  expect(plain(kept(first))).toEqual(plain(fresh(first)));
  // Kept after it was unpacked (a full re-index), it unpacks again to the same entries.
  const unpackedFirst = fresh(first);
  void unpackedFirst.ids;
  keepReadSet(unpackedFirst);
  expect(plain(unpackedFirst)).toEqual(plain(fresh(first)));
  // The previous run's read set kept, the next one fresh: the same change as both fresh.
  const change = changeFrom(kept(first), fresh(second));
  const expected = changeFrom(fresh(first), fresh(second));
  expect(plain(change.readSet)).toEqual(plain(expected.readSet));
  expect([change.addedIds, change.removedIds, change.addedIntervals.length, change.removedIntervals.length]).toEqual([expected.addedIds, expected.removedIds, expected.addedIntervals.length, expected.removedIntervals.length]);
  keepReadSet(change.readSet);
  expect(samePackedReads(change.readSet, fresh(second))).toBe(true);
  // Kept: its bytes are no view into the answer's buffer any more.
  const arrived = fresh(first);
  const answerBuffer = (arrived as unknown as { bytes: Buffer }).bytes.buffer;
  keepReadSet(arrived);
  expect((arrived as unknown as { bytes: Buffer }).bytes.buffer).not.toBe(answerBuffer);
});
