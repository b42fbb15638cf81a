import type { JSONValue } from "convex/values";
import type { CallOutcome } from "../runtime/function-outcome.js";
import { encodeTs } from "../values/ts-codec.js";

/**
 * Messages the engine sends over the sync socket (convex-interface.md §5.3)
 * and their JSON text. Query results are encoded once per subscription, as
 * UTF-8 bytes, and spliced into each subscriber's Transition as they are, so a
 * result shared by a thousand connections is serialized once, not a thousand
 * times, and a query worker's result bytes are copied, never decoded.
 *
 * Transitions carry no `clientClockSkew`: the client reads it only together
 * with `serverTs` (for a debug log line about large transitions), and
 * leaving it out makes the Transitions of connections in the same state
 * byte-identical, so they can share one encoding.
 */

/** Where a connection's view stands: query set, identity and snapshot ts. */
export interface StateVersion {
  querySet: number;
  identity: number;
  ts: bigint;
}

/**
 * A query's latest result as wire bytes without its `queryId`: the fields of a
 * `QueryUpdated` or `QueryFailed` modification. Equal bytes mean the client
 * would see no change.
 */
export interface EncodedResult {
  type: "QueryUpdated" | "QueryFailed";
  /**
   * Unique per encoded result (`encodeResult` numbers them): what a Transition's cache key
   * names it by (`transition-frames.ts`). A number on the object, not a WeakMap entry per
   * result: a fan-out makes a thousand results per commit, and every weak entry is extra
   * work for each garbage collection of the thread that serves the sockets.
   */
  readonly serial: number;
  /**
   * `"value":…,"logLines":[…],"journal":…` (or the QueryFailed fields) as UTF-8, in parts
   * written one after the other: a worker's result bytes are one part, kept as they came
   * (no copy per result; each Transition copies them once, into its frame).
   */
  readonly body: readonly Buffer[];
  /**
   * The part of `body` that is a view into a worker's answer (`packed-answer.ts`), -1 when
   * none is (any more). The first Transition frame that copies the result takes it over:
   * the part becomes a view of its copy in that frame (`settleInFrame`). A subscription
   * keeps its result until its next run, about one pass over the subscribers, and a view
   * into the answer kept the whole answer that long, its packed read set (a third of a
   * feed's answer) included; the frame exists anyway and holds the same bytes. Memory
   * outside the JavaScript heap that dies after surviving two scavenges is freed only by a
   * full collection, and V8 starts one whenever such memory has grown 64 MB since the last
   * ("external memory pressure"; under the sustained load about once a second, each marking
   * the main thread's whole heap to free ~2.5 MB of it: kept answers were one source,
   * Transition frames that wait on slow sockets are another).
   */
  answerPart: number;
}

/**
 * Every server message except Transitions, which `transition-frames.ts`
 * encodes (once for every connection that gets the same one).
 */
export type ServerMessage =
  | { type: "MutationResponse"; requestId: number; outcome: CallOutcome }
  | { type: "ActionResponse"; requestId: number; outcome: CallOutcome }
  | { type: "AuthError"; error: string; baseVersion: number; authUpdateAttempted: boolean }
  | { type: "FatalError"; error: string }
  | { type: "Ping" };

/** The wire text of a message. */
export function encodeServerMessage(message: ServerMessage): string {
  switch (message.type) {
    case "MutationResponse":
    case "ActionResponse": {
      const { outcome } = message;
      const fields: Record<string, unknown> = { type: message.type, requestId: message.requestId };
      if (outcome.status === "success") {
        fields.success = true;
        fields.result = outcome.value;
        if (message.type === "MutationResponse") fields.ts = encodeTs(outcome.ts ?? 0n);
      } else {
        fields.success = false;
        fields.result = outcome.errorMessage;
        if (outcome.errorData !== undefined) fields.errorData = outcome.errorData;
        if (message.type === "MutationResponse") fields.ts = null;
      }
      // The client loops over logLines unconditionally (§5.3).
      fields.logLines = outcome.logLines;
      return JSON.stringify(fields);
    }
    case "AuthError":
      return JSON.stringify({
        type: "AuthError",
        error: message.error,
        baseVersion: message.baseVersion,
        authUpdateAttempted: message.authUpdateAttempted,
      });
    case "FatalError":
      return JSON.stringify({ type: "FatalError", error: message.error });
    case "Ping":
      return '{"type":"Ping"}';
    default:
      return assertNever(message);
  }
}

/** Encodes a query run's outcome once; `journal` is its new journal. */
export function encodeResult(outcome: CallOutcome, journal: string | null): EncodedResult {
  if (outcome.status === "success" && outcome.valueBytes !== undefined && outcome.logLines.length === 0 && journal === null) {
    // The usual subscription re-run (no logs, no pagination): its tail is always the same
    // bytes, shared (parts are only ever read: compared, and copied into frames).
    return { type: "QueryUpdated", serial: ++lastSerial, body: [VALUE_FIELD, outcome.valueBytes, QUIET_TAIL], answerPart: 1 };
  }
  const logLines = JSON.stringify(outcome.logLines);
  const journalText = JSON.stringify(journal);
  if (outcome.status === "success") {
    // `undefined` results travel as null (§5.3). A worker's result arrives as UTF-8 bytes
    // (or text) and its `value` is parsed only when read: splicing it in saves a parse and
    // a stringify of every result on this thread (it is the function's own JSON.stringify).
    const tail = `,"logLines":${logLines},"journal":${journalText}`;
    if (outcome.valueBytes !== undefined) return { type: "QueryUpdated", serial: ++lastSerial, body: [VALUE_FIELD, outcome.valueBytes, Buffer.from(tail)], answerPart: 1 };
    const value = outcome.valueText ?? JSON.stringify(outcome.value ?? null);
    return { type: "QueryUpdated", serial: ++lastSerial, body: [Buffer.from(`"value":${value}${tail}`)], answerPart: -1 };
  }
  const data = outcome.errorData === undefined ? "" : `,"errorData":${JSON.stringify(outcome.errorData as JSONValue)}`;
  return {
    type: "QueryFailed",
    serial: ++lastSerial,
    body: [Buffer.from(`"errorMessage":${JSON.stringify(outcome.errorMessage)},"logLines":${logLines},"journal":${journalText}${data}`)],
    answerPart: -1,
  };
}

const VALUE_FIELD = Buffer.from('"value":');
/** The tail of a result without log lines or journal (what `encodeResult` would build for one). */
const QUIET_TAIL = Buffer.from(`,"logLines":[],"journal":null`);
/** The last `EncodedResult.serial` handed out (2^53 results are centuries of fan-outs). */
let lastSerial = 0;

/** True when both results have the same bytes (the client would see no change). */
export function sameEncodedResult(a: EncodedResult, b: EncodedResult | null): boolean {
  if (b === null) return false;
  if (a === b) return true;
  if (a.type !== b.type || bodyLength(a) !== bodyLength(b)) return false;
  // Split alike (the usual case: both a worker's result): part by part, no copies. Loops,
  // not `every`: this runs for every query of every connection a fan-out answers.
  const parts = a.body.length;
  let alike = parts === b.body.length;
  for (let n = 0; alike && n < parts; n++) alike = a.body[n]!.length === b.body[n]!.length;
  if (!alike) return Buffer.concat(a.body).equals(Buffer.concat(b.body));
  for (let n = 0; n < parts; n++) if (!a.body[n]!.equals(b.body[n]!)) return false;
  return true;
}

/**
 * A frame copied `result`'s answer part (`EncodedResult.answerPart`) to `copy`: the result
 * keeps that copy, the same bytes, and lets go of the worker's answer. Frames are never
 * written once built (`transition-frames.ts`), so the view stays the result's bytes.
 */
export function settleInFrame(result: EncodedResult, copy: Buffer): void {
  (result.body as Buffer[])[result.answerPart] = copy;
  result.answerPart = -1;
}

/** Bytes of a result's body. */
export function bodyLength(result: EncodedResult): number {
  let length = 0;
  for (const part of result.body) length += part.length;
  return length;
}

/** The text before a `QueryUpdated`/`QueryFailed` modification's body (then the body, then `}`). */
export function queryModificationHead(queryId: number, type: EncodedResult["type"]): string {
  return `{"type":"${type}","queryId":${queryId},`;
}

/** A `QueryRemoved` modification. */
export function encodeQueryRemoved(queryId: number): string {
  return `{"type":"QueryRemoved","queryId":${queryId}}`;
}

/** Recently encoded timestamps: every connection in an update round shares one snapshot ts. */
const tsTexts = new Map<bigint, string>();

/** A `startVersion`/`endVersion` object as wire text. */
export function encodeVersion(version: StateVersion): string {
  let ts = tsTexts.get(version.ts);
  if (ts === undefined) {
    if (tsTexts.size >= 64) tsTexts.clear();
    ts = encodeTs(version.ts);
    tsTexts.set(version.ts, ts);
  }
  return `{"querySet":${version.querySet},"identity":${version.identity},"ts":"${ts}"}`;
}

function assertNever(x: never): never {
  throw new Error(`unexpected server message ${JSON.stringify(x)}`);
}
