import { randomBytes } from "node:crypto";
import type { TransitionPlan } from "./connection-view.js";
import { bodyLength, encodeQueryRemoved, encodeVersion, queryModificationHead, settleInFrame, type EncodedResult, type StateVersion } from "./server-message.js";

/**
 * Transitions as the bytes that go on the wire, encoded once per distinct
 * Transition. Connections that watch the same queries under the same ids
 * and were sent the same versions get byte-identical Transitions (a
 * thousand signed-out viewers of one feed, after the first update): the
 * cache hands each of them the same Buffers, so the text is built once and
 * every socket's send queue points at one copy instead of holding its own.
 *
 * Transitions above the backend's 5 MB are split into TransitionChunks
 * (convex-interface.md §5.4); the client reassembles consecutive parts.
 * Runs on the sync server's thread.
 */

/** Transitions above this many bytes travel as TransitionChunks (the backend splits above ~5 MB). */
const CHUNK_THRESHOLD = 5_000_000;
/** Characters per TransitionChunk. */
const CHUNK_SIZE = 1_000_000;
/** Distinct Transitions kept for sharing; a batch of emissions rarely needs more. */
const CACHE_ENTRIES = 256;
/** Bytes of kept frames at most (a larger Transition is sent but not kept). */
const CACHE_BYTES = 8 << 20;

/** The frames of one Transition, in order (one, or the TransitionChunks). */
export type TransitionFrames = readonly Buffer[];

/** Builds Transition frames, sharing the bytes of equal Transitions built close together. */
export class TransitionEncoder {
  /** Transitions encoded (each cache miss); Transitions sent minus this is what sharing saved. */
  encoded = 0;
  /**
   * Kept frames by Transition key, and their bytes. A plain Map that starts over when a
   * bound would be passed, not an LRU: it lives for one fan-out (`clear()` once all is
   * sent), where recency buys nothing, and it takes a set and a clear per Transition, a
   * thousand per commit with distinct subscribers: ~0.4 µs with a Map, 3.7–7.7 µs with
   * lru-cache 11 (its set, delete and clear keep per-entry arrays; Node 20).
   */
  private readonly cache = new Map<string, TransitionFrames>();
  private cachedBytes = 0;
  private nextTransitionId = 0;
  private readonly idPrefix = randomBytes(4).toString("hex");
  /** The last Transition head made, and the versions it is for (copies: versions are the views' objects). */
  private lastHead: { start: StateVersion; end: StateVersion; bytes: Buffer } | null = null;

  /** The frames for `plan`; equal plans (same versions, ids and result objects) get the same Buffers. */
  encode(plan: TransitionPlan): TransitionFrames {
    // A Transition carrying a result no other connection holds (a distinct subscriber's) is
    // built and sent but neither looked up nor kept: no key text, no entry, and its frame is
    // not held until the fan-out's end (the usual fan-out of distinct feeds makes a
    // thousand per commit on the thread that serves the sockets).
    const key = plan.alone === true ? null : this.keyOf(plan);
    const hit = key === null ? undefined : this.cache.get(key);
    if (hit !== undefined) return hit;
    this.encoded += 1;
    const frame = transitionBytes(plan, this.versionsHead(plan.start, plan.end));
    const frames = frame.length <= CHUNK_THRESHOLD ? [frame] : this.chunk(frame.toString("utf8"));
    if (key !== null && frame.length <= CACHE_BYTES) {
      if (this.cache.size >= CACHE_ENTRIES || this.cachedBytes + frame.length > CACHE_BYTES) this.clear();
      this.cache.set(key, frames);
      this.cachedBytes += frame.length;
    }
    return frames;
  }

  /** Forgets cached frames (once a batch is sent: equal Transitions are built within one). */
  clear(): void {
    this.cache.clear();
    this.cachedBytes = 0;
  }

  /**
   * The Transition's head as bytes, kept for the last pair of versions: in a fan-out every
   * connection goes from the same versions to the same (clients number query sets and
   * identities alike, and a commit's round shares its ts).
   */
  private versionsHead(start: StateVersion, end: StateVersion): Buffer {
    const last = this.lastHead;
    if (
      last !== null &&
      last.start.ts === start.ts &&
      last.end.ts === end.ts &&
      last.start.querySet === start.querySet &&
      last.end.querySet === end.querySet &&
      last.start.identity === start.identity &&
      last.end.identity === end.identity
    ) {
      return last.bytes;
    }
    const bytes = Buffer.from(versionsHeadText(start, end));
    this.lastHead = { start: { ...start }, end: { ...end }, bytes };
    return bytes;
  }

  private keyOf(plan: TransitionPlan): string {
    const { start, end } = plan;
    let key = `${start.querySet}/${start.identity}/${start.ts}>${end.querySet}/${end.identity}/${end.ts}|${plan.removed.join(",")}|`;
    for (const [queryId, result] of plan.updated) key += `${queryId}:${result.serial},`;
    return key;
  }

  private chunk(text: string): Buffer[] {
    // The client reassembles consecutive parts by id; nothing else may come between them (§5.4).
    const id = `${this.idPrefix}-${this.nextTransitionId++}`;
    const parts = splitText(text, CHUNK_SIZE);
    return parts.map((chunk, partNumber) =>
      Buffer.from(JSON.stringify({ type: "TransitionChunk", chunk, partNumber, totalParts: parts.length, transitionId: id })),
    );
  }
}

/**
 * A Transition's JSON as one buffer, written piece by piece: its head (both versions) as
 * `versionsHead` gives it, each modification's head (`modificationHead`, kept per type and
 * query id) and each result's bytes copied in as they are (never decoded or re-encoded
 * here), and the few separators as single bytes. A fan-out writes a thousand of these per
 * commit on the thread that serves the sockets, nearly all with the same versions and query
 * ids; built as strings they were a dozen strings and arrays per Transition to encode again.
 * The bytes are those of the text `{"type":"Transition","startVersion":…,"endVersion":…,
 * "modifications":[` + the removals, then per update `{"type":…,"queryId":…,` + body + `}`,
 * comma-separated, then `]}` (test/transition-frames.test.ts compares it with that text).
 */
function transitionBytes(plan: TransitionPlan, head: Buffer): Buffer {
  const { updated } = plan;
  const removed = plan.removed.length === 0 ? null : Buffer.from(plan.removed.map(encodeQueryRemoved).join(","));
  let length = head.length + (removed === null ? 0 : removed.length) + 2;
  // Indexed, not destructured: destructuring an entry walks it with an iterator.
  for (let n = 0; n < updated.length; n++) {
    const result = updated[n]![1];
    length += (n > 0 || removed !== null ? 1 : 0) + modificationHead(result.type, updated[n]![0]).length + bodyLength(result) + 1;
  }
  const frame = Buffer.allocUnsafe(length);
  let at = head.copy(frame, 0);
  if (removed !== null) at += removed.copy(frame, at);
  for (let n = 0; n < updated.length; n++) {
    const result = updated[n]![1];
    if (n > 0 || removed !== null) frame[at++] = COMMA;
    at += modificationHead(result.type, updated[n]![0]).copy(frame, at);
    // A worker's result bytes are from now on the result's view of this frame, not of the
    // worker's answer (`settleInFrame`): the frame is made anyway, the answer can go.
    const { body, answerPart } = result;
    for (let p = 0; p < body.length; p++) {
      const start = at;
      at += body[p]!.copy(frame, at);
      if (p === answerPart) settleInFrame(result, frame.subarray(start, at));
    }
    frame[at++] = CLOSE_BRACE;
  }
  frame[at++] = CLOSE_BRACKET;
  frame[at] = CLOSE_BRACE;
  return frame;
}

const COMMA = 0x2c;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/** The text before both versions' heads' end: `{"type":"Transition","startVersion":…,"endVersion":…,"modifications":[`. */
function versionsHeadText(start: StateVersion, end: StateVersion): string {
  return `{"type":"Transition","startVersion":${encodeVersion(start)},"endVersion":${encodeVersion(end)},"modifications":[`;
}

/** Modification heads by type, then query id (clients number their queries from 0). */
const modificationHeads = { QueryUpdated: [] as Buffer[], QueryFailed: [] as Buffer[] };
/** Query ids whose heads are kept (a connection holds at most 4,096 queries; most hold a few). */
const KEPT_HEADS = 4_096;

/** `queryModificationHead` as bytes, made once per type and query id below `KEPT_HEADS`. */
function modificationHead(type: EncodedResult["type"], queryId: number): Buffer {
  const heads = modificationHeads[type];
  const kept = heads[queryId];
  if (kept !== undefined) return kept;
  const bytes = Buffer.from(queryModificationHead(queryId, type));
  if (Number.isInteger(queryId) && queryId >= 0 && queryId < KEPT_HEADS) heads[queryId] = bytes;
  return bytes;
}

/** Splits text into pieces of at most `size` characters without cutting a surrogate pair. */
function splitText(text: string, size: number): string[] {
  const parts: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(start + size, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    parts.push(text.slice(start, end));
    start = end;
  }
  return parts;
}
