import { describe, expect, test } from "vitest";
import type { ReadInterval, ReadSet } from "../src/query/read-set";
import { packReadSet, unpackReadSet } from "../src/runtime/query-workers/packed-read-set";
import { changedReads, lazyReadSet } from "../src/runtime/query-workers/received-read-set";
import type { DocumentWrite } from "../src/store/write-set";
import { IndexIntervals } from "../src/sync/index-intervals";
import { SubscriptionRegistry, type QuerySpec, type Subscription } from "../src/sync/subscription-registry";
import type { EncodedResult } from "../src/sync/server-message";

// A re-run that read nearly what the last run read moves only the index entries that
// differ (`changedReads`). The oracle: a registry that indexed the same read set from
// scratch must find exactly the same subscriptions stale for any write.

const INDEXES = ["posts.by_author", "likes.by_user_post", "users.by_name"];
const IDS = Array.from({ length: 12 }, (_, n) => `id${String(n).padStart(3, "0")}xxxxxxxxxxxxxxxxxxxxxxxxxxxx`);
const RESULT: EncodedResult = { type: "QueryUpdated", serial: 1, body: [Buffer.from('"value":null,"logLines":[],"journal":null')], answerPart: -1 };

/** A seeded generator (mulberry32), so a failure repeats. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function key(rand: () => number): Buffer {
  return Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 3) }, () => Math.floor(rand() * 6)));
}

function randomInterval(rand: () => number): ReadInterval {
  const a = key(rand);
  const b = key(rand);
  const [lo, hi] = Buffer.compare(a, b) <= 0 ? [a, b] : [b, a];
  return { index: INDEXES[Math.floor(rand() * INDEXES.length)]!, lo, hi: rand() < 0.2 ? null : Buffer.concat([hi, Buffer.from([9])]) };
}

/** The next run's reads: mostly the last run's with a few entries dropped, added or swapped; sometimes all new. */
function nextReads(rand: () => number, last: ReadSet): ReadSet {
  if (rand() < 0.1) {
    return { intervals: Array.from({ length: Math.floor(rand() * 8) }, () => randomInterval(rand)), ids: Array.from({ length: Math.floor(rand() * 8) }, () => IDS[Math.floor(rand() * IDS.length)]!) };
  }
  const intervals = [...last.intervals];
  const ids = [...last.ids];
  for (let edits = Math.floor(rand() * 3); edits > 0; edits--) {
    const at = (n: number) => Math.floor(rand() * (n + 1));
    const pick = rand();
    if (pick < 0.25) intervals.splice(at(intervals.length), 0, randomInterval(rand));
    else if (pick < 0.45 && intervals.length > 0) intervals.splice(at(intervals.length - 1), 1);
    else if (pick < 0.7) ids.splice(at(ids.length), 0, IDS[Math.floor(rand() * IDS.length)]!);
    else if (ids.length > 0) ids.splice(at(ids.length - 1), 1);
  }
  return { intervals, ids };
}

function randomWrite(rand: () => number): DocumentWrite {
  const keys = INDEXES.filter(() => rand() < 0.5).map((index) => ({ index, oldKey: rand() < 0.5 ? key(rand) : null, newKey: rand() < 0.5 ? key(rand) : null }));
  return { id: IDS[Math.floor(rand() * IDS.length)]!, table: "posts", oldText: null, newText: "{}", keys };
}

function spec(name: string): QuerySpec {
  return { udfPath: `q:${name}`, args: {}, identity: null, identityKey: "null", admin: false, journal: null };
}

function record<W>(registry: SubscriptionRegistry<W>, sub: Subscription<W>, readSet: ReadSet, ts: bigint): void {
  registry.recordRun(sub, { result: RESULT, journal: null, readSet, ts, validTo: null });
}

describe("changedReads", () => {
  test("keeps the shared entries as the previous objects and decodes only the new ones", () => {
    const rand = random(7);
    let compared = 0;
    for (let round = 0; round < 300; round++) {
      // Some read sets larger than a feed's, past the offsets `changedReads` starts with.
      const first = { intervals: Array.from({ length: round % 3 === 0 ? 400 : 10 }, () => randomInterval(rand)), ids: IDS.slice(0, 6) };
      const second = nextReads(rand, first);
      const previous = lazyReadSet(packReadSet(first));
      const previousIntervals = [...previous.intervals]; // indexed, hence unpacked
      const next = lazyReadSet(packReadSet(second));
      const change = changedReads(previous, next);
      const expected = unpackReadSet(packReadSet(second));
      if (change === null) continue;
      expect({ intervals: change.readSet.intervals.map(plain), ids: change.readSet.ids }).toEqual({ intervals: expected.intervals.map(plain), ids: expected.ids });
      // Every entry not reported as added is one of the previous run's objects.
      const added = new Set(change.addedIntervals);
      for (const interval of change.readSet.intervals) if (!added.has(interval)) expect(previousIntervals).toContain(interval);
      // The previous read set gave its arrays up and still reads as its own bytes.
      expect(previous.intervals).not.toBe(change.readSet.intervals);
      expect({ intervals: previous.intervals.map(plain), ids: previous.ids }).toEqual({ intervals: unpackReadSet(packReadSet(first)).intervals.map(plain), ids: first.ids });
      compared += 1;
    }
    expect(compared).toBeGreaterThan(200);
  });

  test("refuses read sets that were not packed, never indexed, or mostly different", () => {
    const reads = { intervals: [randomInterval(random(1))], ids: [IDS[0]!] };
    const packed = lazyReadSet(packReadSet(reads));
    expect(changedReads(reads, lazyReadSet(packReadSet(reads)))).toBeNull();
    expect(changedReads(packed, lazyReadSet(packReadSet(reads)))).toBeNull();
    void packed.ids;
    expect(changedReads(packed, lazyReadSet(packReadSet({ intervals: [], ids: IDS.slice(3, 9) })))).toBeNull();
  });
});

test("a registry that moves only changed entries finds the same stale subscriptions as one indexed from scratch", () => {
  const rand = random(2024);
  const names = ["a", "b", "c", "d"];
  const registry = new SubscriptionRegistry<string>();
  const subs = names.map((name) => registry.acquire(spec(name), name));
  const reads = new Map<string, ReadSet>(names.map((name) => [name, { intervals: [], ids: [] }]));
  let ts = 1n;
  let incremental = 0;
  for (let step = 0; step < 2_000; step++) {
    ts += 1n;
    const name = names[Math.floor(rand() * names.length)]!;
    const sub = subs[names.indexOf(name)]!;
    const next = nextReads(rand, reads.get(name)!);
    reads.set(name, next);
    const packed = lazyReadSet(packReadSet(next));
    const kept = new Set<unknown>([...(sub.readSet?.intervals ?? []), ...(sub.readSet?.ids ?? [])]);
    record(registry, sub, packed, ts);
    // The incremental path keeps the previous run's interval objects.
    if (sub.readSet!.intervals.some((interval) => kept.has(interval))) incremental += 1;

    // The oracle: every subscription's current reads, indexed from scratch.
    const oracle = new SubscriptionRegistry<string>();
    for (const other of names) record(oracle, oracle.acquire(spec(other), other), unpackReadSet(packReadSet(reads.get(other)!)), ts);
    for (let w = 0; w < 3; w++) {
      ts += 1n;
      const writes = [randomWrite(rand)];
      const stale = registry.invalidate(writes, ts).map((s) => s.spec.udfPath).sort();
      const expected = oracle.invalidate(writes, ts).map((s) => s.spec.udfPath).sort();
      expect(stale, `step ${step}`).toEqual(expected);
      // Both start the next write valid again.
      for (const s of [...subs]) if (s.validTo !== null) record(registry, s, s.readSet!, ts);
      ts += 1n;
      for (const other of names) record(oracle, oracle.acquire(spec(other), other), unpackReadSet(packReadSet(reads.get(other)!)), ts);
    }
  }
  // Most steps took the incremental path (the test would not test it otherwise).
  expect(incremental).toBeGreaterThan(1_000);
});

function plain(interval: ReadInterval) {
  return { index: interval.index, lo: [...interval.lo], hi: interval.hi === null ? null : [...interval.hi] };
}

test("an index's intervals find a key by their union exactly as a scan of every interval does", () => {
  const rand = random(99);
  for (let round = 0; round < 400; round++) {
    const group = new IndexIntervals();
    const recorded: ReadInterval[] = [];
    for (let n = Math.floor(rand() * 40); n > 0; n--) {
      const interval = randomInterval(rand);
      group.add(interval);
      recorded.push(interval);
      // Now and then one goes again, after the union was built.
      if (rand() < 0.1 && recorded.length > 0) {
        group.contains(key(rand));
        group.remove(recorded.splice(Math.floor(rand() * recorded.length), 1)[0]!);
      }
    }
    for (let probe = 0; probe < 30; probe++) {
      const k = key(rand);
      const scanned = recorded.some((i) => Buffer.compare(k, i.lo) >= 0 && (i.hi === null || Buffer.compare(k, i.hi) < 0));
      expect(group.contains(k)).toBe(scanned);
    }
  }
});
