import type { CacheDrops } from "./worker-protocol.js";

/**
 * A query's success as one transferred buffer (`FromWorker` "done" whose outcome is a
 * success): written on the query worker, read on the main thread. Structured-cloning the
 * answer as an object (the message, its outcome, the drops, a bigint, two transferred
 * buffers, strings for the tags) made ~1 KB of objects per answer on the main thread, where
 * a fan-out receives a thousand per commit; this is one ArrayBuffer, and the main thread
 * makes only the views it hands on (the value's bytes, the read set's). Errors keep the
 * object message (rare, and their fields are text the main thread reads anyway).
 *
 * Layout (little-endian): f64 job id, i64 ts, f64 and f64 the worker's cache drops
 * (`unannounced`, `gap`), u32 length of the meta text (0: none), i32 length of the packed
 * read set (-1: not tracked); then the meta text, the read set and the value's UTF-8 bytes
 * to the end. The meta text is `JSON.stringify([journal, logLines])`, written only when
 * there is a journal or a log line: its escapes keep lone surrogates, which UTF-8 cannot.
 */

const HEADER = 40;

/** A success as the worker hands it to `packAnswer`. */
export interface AnswerFields {
  id: number;
  ts: bigint;
  journal: string | null;
  logLines: string[];
  /** `packReadSet` of what it read; null when the job was not tracked. */
  readSet: ArrayBuffer | null;
  valueText: string;
  drops: CacheDrops;
}

/** The buffer for `answer` (on the query worker). */
export function packAnswer(answer: AnswerFields): ArrayBuffer {
  const meta = answer.journal === null && answer.logLines.length === 0 ? null : Buffer.from(JSON.stringify([answer.journal, answer.logLines]), "utf8");
  const metaLength = meta === null ? 0 : meta.length;
  const readSetLength = answer.readSet === null ? 0 : answer.readSet.byteLength;
  const valueAt = HEADER + metaLength + readSetLength;
  const bytes = Buffer.allocUnsafeSlow(valueAt + Buffer.byteLength(answer.valueText, "utf8"));
  bytes.writeDoubleLE(answer.id, 0);
  bytes.writeBigInt64LE(answer.ts, 8);
  bytes.writeDoubleLE(answer.drops.unannounced, 16);
  bytes.writeDoubleLE(answer.drops.gap, 24);
  bytes.writeUInt32LE(metaLength, 32);
  bytes.writeInt32LE(answer.readSet === null ? -1 : readSetLength, 36);
  if (meta !== null) meta.copy(bytes, HEADER);
  if (answer.readSet !== null) bytes.set(new Uint8Array(answer.readSet), HEADER + metaLength);
  bytes.write(answer.valueText, valueAt, "utf8");
  // allocUnsafeSlow: a buffer of its own (not a slice of Node's pool), so it can be transferred whole.
  return bytes.buffer as ArrayBuffer;
}

/**
 * Reading `packAnswer`'s buffer (on the main thread), field by field from one Buffer over
 * it, so the reader builds its own result with no object in between.
 */
export const packedAnswer = {
  id: (bytes: Buffer): number => bytes.readDoubleLE(0),
  ts: (bytes: Buffer): bigint => bytes.readBigInt64LE(8),
  unannounced: (bytes: Buffer): number => bytes.readDoubleLE(16),
  gap: (bytes: Buffer): number => bytes.readDoubleLE(24),
  journal: (bytes: Buffer): string | null => (bytes.readUInt32LE(32) === 0 ? null : meta(bytes)[0]),
  /** The log lines (a fresh empty array when there were none: callers may add to it). */
  logLines: (bytes: Buffer): string[] => (bytes.readUInt32LE(32) === 0 ? [] : meta(bytes)[1]),
  /** The packed read set, a view into the answer's buffer; null when the job was not tracked. */
  readSet(bytes: Buffer): Buffer | null {
    const length = bytes.readInt32LE(36);
    const at = HEADER + bytes.readUInt32LE(32);
    return length < 0 ? null : bytes.subarray(at, at + length);
  },
  /** The value's UTF-8 bytes, a view into the answer's buffer. */
  value(bytes: Buffer): Buffer {
    return bytes.subarray(HEADER + bytes.readUInt32LE(32) + Math.max(bytes.readInt32LE(36), 0));
  },
};

/** The meta text, parsed (only when there is a journal or a log line, so rarely). */
function meta(bytes: Buffer): [journal: string | null, logLines: string[]] {
  return JSON.parse(bytes.toString("utf8", HEADER, HEADER + bytes.readUInt32LE(32))) as [string | null, string[]];
}
