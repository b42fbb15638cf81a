import type { JSONValue } from "convex/values";
import { expect, test } from "vitest";
import type { CallOutcome } from "../src/runtime/function-outcome";
import { encodeQueryRemoved, encodeResult, encodeVersion, queryModificationHead, sameEncodedResult } from "../src/sync/server-message";
import { TransitionEncoder } from "../src/sync/transition-frames";
import { decodeTs } from "../src/values/ts-codec";

// Results travel as bytes: a query worker's UTF-8 result is one part of the encoded result
// and is copied into each Transition's frame as it is. The frames must be the JSON the
// official client parses, whatever mix of removals, worker bytes and text they hold.

const fromWorker = (value: JSONValue, logLines: string[] = []): CallOutcome =>
  ({ status: "success", value, valueBytes: Buffer.from(JSON.stringify(value)), logLines }) as CallOutcome;
const fromBytes = (valueBytes: Buffer): CallOutcome => ({ status: "success", valueBytes, logLines: [] }) as unknown as CallOutcome;
const fromText = (value: JSONValue): CallOutcome => ({ status: "success", value, valueText: JSON.stringify(value), logLines: [] });
const version = (ts: bigint) => ({ querySet: 2, identity: 1, ts });

test("a Transition with removals, worker bytes, text and a failure is one frame of the JSON the client reads", () => {
  const encoder = new TransitionEncoder();
  // Non-ASCII text and an escaped quote inside the worker's bytes.
  const post = { body: "héllo \"wörld\" 👋", likes: 3 };
  const failed: CallOutcome = { status: "error", errorMessage: "Uncaught Error: nope", errorData: { code: 7 }, logLines: ["a line"] };
  const frames = encoder.encode({
    start: version(5n),
    end: version(9n),
    removed: [4, 6],
    updated: [
      [1, encodeResult(fromWorker([post], ["log é"]), "cursor-1")],
      [2, encodeResult(fromText({ n: 1 }), null)],
      [3, encodeResult(failed, null)],
    ],
  });
  expect(frames).toHaveLength(1);
  const message = JSON.parse(frames[0]!.toString("utf8"));
  expect(decodeTs(message.endVersion.ts)).toBe(9n);
  expect(message.modifications).toEqual([
    { type: "QueryRemoved", queryId: 4 },
    { type: "QueryRemoved", queryId: 6 },
    { type: "QueryUpdated", queryId: 1, value: [post], logLines: ["log é"], journal: "cursor-1" },
    { type: "QueryUpdated", queryId: 2, value: { n: 1 }, logLines: [], journal: null },
    { type: "QueryFailed", queryId: 3, errorMessage: "Uncaught Error: nope", errorData: { code: 7 }, logLines: ["a line"], journal: null },
  ]);
  const onlyRemoved = JSON.parse(encoder.encode({ start: version(9n), end: version(10n), removed: [1], updated: [] })[0]!.toString());
  expect(onlyRemoved.modifications).toEqual([{ type: "QueryRemoved", queryId: 1 }]);
  const empty = JSON.parse(encoder.encode({ start: version(10n), end: version(11n), removed: [], updated: [] })[0]!.toString());
  expect(empty.modifications).toEqual([]);
});

test("equal results compare equal however their bytes are split, and any changed byte makes them differ", () => {
  const value = { feed: ["a", "b"], count: 2 };
  expect(sameEncodedResult(encodeResult(fromWorker(value), null), encodeResult(fromWorker(value), null))).toBe(true);
  expect(sameEncodedResult(encodeResult(fromWorker(value), null), encodeResult(fromText(value), null))).toBe(true);
  expect(sameEncodedResult(encodeResult(fromWorker(value), null), encodeResult(fromWorker({ ...value, count: 3 }), null))).toBe(false);
  expect(sameEncodedResult(encodeResult(fromWorker(value), null), encodeResult(fromWorker(value), "c"))).toBe(false);
  expect(sameEncodedResult(encodeResult(fromWorker(value), null), null)).toBe(false);
});

test("a Transition above 5 MB of worker bytes is split into TransitionChunks that join to the same JSON", () => {
  const big = "é".repeat(1_500_000); // 3 MB of UTF-8 per result
  const frames = new TransitionEncoder().encode({
    start: version(1n),
    end: version(2n),
    removed: [],
    updated: [
      [1, encodeResult(fromWorker(big), null)],
      [2, encodeResult(fromWorker(big), null)],
    ],
  });
  expect(frames.length).toBeGreaterThan(1);
  const chunks = frames.map((f) => JSON.parse(f.toString("utf8")));
  expect(chunks.every((c, n) => c.type === "TransitionChunk" && c.partNumber === n && c.totalParts === frames.length)).toBe(true);
  const whole = JSON.parse(chunks.map((c) => c.chunk).join(""));
  expect(whole.modifications.map((m: { value: string }) => m.value === big)).toEqual([true, true]);
});

test("equal Transitions share one encoding until clear(), after a few encodings or many", () => {
  const encoder = new TransitionEncoder();
  const results = Array.from({ length: 40 }, (_, n) => encodeResult(fromWorker({ n }), null));
  const plan = (n: number) => ({ start: version(1n), end: version(2n), removed: [], updated: [[1, results[n]!]] as [number, typeof results[number]][] });
  for (const count of [1, 3, 16, 17, 40]) {
    const before = encoder.encoded;
    const first = Array.from({ length: count }, (_, n) => encoder.encode(plan(n)));
    // Encoded once each, then shared: the same Buffers, no new encoding.
    expect(Array.from({ length: count }, (_, n) => encoder.encode(plan(n))[0])).toEqual(first.map((f) => f[0]));
    expect(Array.from({ length: count }, (_, n) => encoder.encode(plan(n))[0] === first[n]![0]).every(Boolean)).toBe(true);
    expect(encoder.encoded - before).toBe(count);
    encoder.clear();
    // After clear() every one of them is forgotten: encoding them again builds new frames.
    const again = Array.from({ length: count }, (_, n) => encoder.encode(plan(n)));
    expect(again.every((f, n) => f[0] !== first[n]![0])).toBe(true);
    expect(encoder.encoded - before).toBe(2 * count);
    encoder.clear();
  }
});

test("the shared encodings are bounded: past 256 distinct Transitions older ones are encoded again", () => {
  const encoder = new TransitionEncoder();
  const results = Array.from({ length: 300 }, (_, n) => encodeResult(fromWorker({ n }), null));
  const plan = (n: number) => ({ start: version(1n), end: version(2n), removed: [], updated: [[1, results[n]!]] as [number, typeof results[number]][] });
  const frames = Array.from({ length: 300 }, (_, n) => encoder.encode(plan(n))[0]);
  expect(encoder.encoded).toBe(300);
  // The newest is still shared; one of the first is not kept any more.
  expect(encoder.encode(plan(299))[0]).toBe(frames[299]);
  expect(encoder.encoded).toBe(300);
  expect(encoder.encode(plan(1))[0]).not.toBe(frames[1]);
  expect(encoder.encoded).toBe(301);
});

test("a worker's result without logs or journal (the shared tail) has the bytes of the general encoding", () => {
  const value = { feed: ["é", "b"], count: 2 };
  const quiet = encodeResult(fromWorker(value), null);
  // The general path: the same outcome as text, and as worker bytes with the tail built.
  expect(Buffer.concat(quiet.body).toString("utf8")).toBe(Buffer.concat(encodeResult(fromText(value), null).body).toString("utf8"));
  expect(Buffer.concat(quiet.body).toString("utf8")).toBe(`"value":${JSON.stringify(value)},"logLines":[],"journal":null`);
  // Logs or a journal take the general path and keep their fields.
  expect(Buffer.concat(encodeResult(fromWorker(value, ["x"]), "j").body).toString("utf8")).toBe(`"value":${JSON.stringify(value)},"logLines":["x"],"journal":"j"`);
});

test("a Transition with a result of one connection alone has the same bytes, built each time instead of kept", () => {
  const encoder = new TransitionEncoder();
  const result = encodeResult(fromWorker({ n: 1 }), null);
  const plan = (alone?: boolean) => ({ start: version(1n), end: version(2n), removed: [3], updated: [[1, result]] as [number, typeof result][], alone });
  const shared = encoder.encode(plan());
  const alone = encoder.encode(plan(true));
  expect(alone[0]!.equals(shared[0]!)).toBe(true);
  expect(alone[0]).not.toBe(shared[0]);
  expect(encoder.encode(plan(true))[0]).not.toBe(alone[0]);
  expect(encoder.encode(plan(false))[0]).toBe(shared[0]);
  expect(encoder.encoded).toBe(3);
});

/**
 * The frame as the text it stands for, built the plain way (strings joined, then encoded):
 * what `transitionBytes` wrote before it wrote cached heads and single bytes instead.
 */
function referenceFrame(plan: Parameters<TransitionEncoder["encode"]>[0]): Buffer {
  let text = `{"type":"Transition","startVersion":${encodeVersion(plan.start)},"endVersion":${encodeVersion(plan.end)},"modifications":[`;
  const parts = plan.removed.map(encodeQueryRemoved);
  for (const [queryId, result] of plan.updated) parts.push(`${queryModificationHead(queryId, result.type)}${Buffer.concat(result.body).toString("utf8")}}`);
  text += `${parts.join(",")}]}`;
  return Buffer.from(text, "utf8");
}

test("a Transition's frame has the bytes of its text built the plain way, for every mix of removals and updates, versions and query ids", () => {
  const encoder = new TransitionEncoder();
  const failed: CallOutcome = { status: "error", errorMessage: "Uncaught Error: nö", logLines: [] };
  const results = [
    encodeResult(fromWorker({ n: "é 👋" }), null),
    encodeResult(fromWorker([1, 2], ["log"]), "cursor"),
    encodeResult(fromText({ t: 1 }), null),
    encodeResult(failed, null),
  ];
  let checked = 0;
  for (const removed of [[], [3], [4, 9000]]) {
    for (const queryIds of [[], [0], [1, 5000], [0, 2, 7, 4095, 4096]]) {
      // The same versions twice in a row (the kept head), then others (a new head each).
      for (const [start, end] of [
        [version(5n), version(9n)],
        [version(5n), version(9n)],
        [{ querySet: 3, identity: 1, ts: 5n }, version(9n)],
        [version(5n), { querySet: 2, identity: 4, ts: 9n }],
        [version(9n), version(12n)],
      ] as const) {
        const plan = { start, end, removed, updated: queryIds.map((id, n) => [id, results[n % results.length]!] as [number, (typeof results)[number]]), alone: true };
        const frame = encoder.encode(plan)[0]!;
        expect(frame.equals(referenceFrame(plan))).toBe(true);
        JSON.parse(frame.toString("utf8"));
        checked += 1;
      }
    }
  }
  expect(checked).toBe(60);
});

test("a worker's result, once copied into a frame, is kept as a view of that frame instead of the worker's answer", () => {
  // The answer also holds the read set; a subscription keeps its result for a whole pass.
  const value = { feed: "é".repeat(5_000), n: 1 };
  const text = Buffer.from(JSON.stringify(value));
  const answer = Buffer.allocUnsafeSlow(40 + text.length);
  text.copy(answer, 40);
  const result = encodeResult(fromBytes(answer.subarray(40)), null);
  const other = encodeResult(fromText({ other: true }), null);
  expect(result.body.some((part) => part.buffer === answer.buffer)).toBe(true);
  const encoder = new TransitionEncoder();
  const first = { start: version(1n), end: version(2n), removed: [], updated: [[3, other], [1, result]] as [number, typeof result][], alone: true };
  const frame = encoder.encode(first)[0]!;
  expect(result.body.some((part) => part.buffer === answer.buffer)).toBe(false);
  expect(result.body.some((part) => part.buffer === frame.buffer)).toBe(true);
  // The same bytes: equal to the result as text, and the next Transition carrying it is the
  // text's JSON (it copies from the frame now).
  expect(sameEncodedResult(result, encodeResult(fromText(value), null))).toBe(true);
  const second = { start: version(2n), end: version(5n), removed: [7], updated: [[1, result]] as [number, typeof result][] };
  expect(encoder.encode(second)[0]!.equals(referenceFrame(second))).toBe(true);
  expect(frame.equals(referenceFrame(first))).toBe(true);
  // A result twice in one Transition (two query ids, one subscription) is written twice alike.
  const again = encodeResult(fromBytes(Buffer.from(answer.subarray(40))), null);
  const twice = { start: version(5n), end: version(6n), removed: [], updated: [[1, again], [2, again]] as [number, typeof again][] };
  expect(encoder.encode(twice)[0]!.equals(referenceFrame(twice))).toBe(true);
});
