import { EngineError } from "../errors.js";

/**
 * Timestamps on the wire (WebSocket versions, `MutationResponse.ts`,
 * `/api/query_ts`) are the base64 of the 8 little-endian bytes of the u64
 * nanosecond value (convex-interface.md §0); a JSON number is rejected.
 */
export function encodeTs(ts: bigint): string {
  const buf = Buffer.alloc(8);
  buf.writeBigUInt64LE(ts);
  return buf.toString("base64");
}

/** Decodes a wire timestamp; anything but 8 base64 bytes is a client error. */
export function decodeTs(text: unknown): bigint {
  if (typeof text !== "string") throw new EngineError("InvalidTimestamp", "A timestamp must be a base64 string.");
  const buf = Buffer.from(text, "base64");
  if (buf.length !== 8) throw new EngineError("InvalidTimestamp", `Invalid timestamp ${JSON.stringify(text)}.`);
  return buf.readBigUInt64LE();
}
