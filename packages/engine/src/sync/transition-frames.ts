import { randomBytes } from "node:crypto";
import type { TransitionPlan } from "./connection-view.js";
import { bodyLength, encodeQueryRemoved, encodeVersion, queryModificationHead } from "./server-message.js";

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
    const frame = transitionBytes(plan);
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
 * A Transition's JSON as one buffer: the short texts around the results written in, each
 * result's bytes copied in as they are (never decoded or re-encoded here).
 */
function transitionBytes(plan: TransitionPlan): Buffer {
  let head = `{"type":"Transition","startVersion":${encodeVersion(plan.start)},"endVersion":${encodeVersion(plan.end)},"modifications":[`;
  head += plan.removed.map(encodeQueryRemoved).join(",");
  // Text before each result (its head, after the previous result's `}`), then the closing text.
  const texts: string[] = [];
  let length = 0;
  for (const [queryId, result] of plan.updated) {
    const text = `${head}${texts.length > 0 || plan.removed.length > 0 ? "," : ""}${queryModificationHead(queryId, result)}`;
    texts.push(text);
    length += Buffer.byteLength(text) + bodyLength(result);
    head = "}";
  }
  const close = plan.updated.length > 0 ? "}]}" : `${head}]}`;
  const frame = Buffer.allocUnsafe(length + Buffer.byteLength(close));
  let at = 0;
  for (let n = 0; n < texts.length; n++) {
    at += frame.write(texts[n]!, at);
    for (const part of plan.updated[n]![1].body) at += part.copy(frame, at);
  }
  frame.write(close, at);
  return frame;
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
