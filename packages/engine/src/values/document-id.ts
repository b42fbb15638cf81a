import { EngineError } from "../errors";
import { decodeBase32, encodeBase32 } from "./base32";

/**
 * Convex document ids: base32 of `VInt(tableNumber) ‖ internalId (16 bytes) ‖ footer`, where
 * the footer is the little-endian fletcher16 of everything before it (XOR version 0).
 * The table is recoverable from the id, which is how `db.get(id)` and `v.id(t)` work.
 */

/** Length in bytes of the table-independent part of an id. */
const INTERNAL_ID_LENGTH = 16;

/** Bytes 0..5: milliseconds since the epoch, big-endian (48 bits last until the year 10889). */
const TIME_BYTES = 6;
/** Bytes 6..13: random, so ids made in the same millisecond differ (and stay unguessable). */
const RANDOM_BYTES = 8;
const MS_PER_DAY = 86_400_000;
const MAX_TABLE_NUMBER = 0xffff_ffff;
/** 1..5 VInt bytes + 16 + 2 give 19..23 bytes, i.e. 31..37 base32 characters. */
const MIN_ID_LENGTH = 31;
const MAX_ID_LENGTH = 37;

/** The two parts of a decoded document id. */
export interface DecodedDocumentId {
  tableNumber: number;
  internalId: Uint8Array;
}

/**
 * Builds a 16-byte internal id: the creation millisecond (6 bytes, big-endian), 8 random
 * bytes, then the day number (days since the Unix epoch, big-endian) as the backend's own
 * ids end with. Any 16 bytes make a valid Convex id; starting with the time makes a table's
 * new ids sort after its older ones (base32 keeps byte order), so inserting a document
 * appends to the right edge of the `by_id` index instead of dirtying a random page of it
 * (see docs/architecture.md "Storage layout"). 64 random bits per millisecond keep ids
 * unique and unguessable.
 */
export function newInternalId(randomBytes: (n: number) => Uint8Array, nowMs: number): Uint8Array {
  const random = randomBytes(RANDOM_BYTES);
  if (random.length !== RANDOM_BYTES) {
    throw new EngineError("InternalError", `randomBytes(${RANDOM_BYTES}) returned ${random.length} bytes`, "fatal");
  }
  const out = new Uint8Array(INTERNAL_ID_LENGTH);
  let ms = Math.max(0, Math.floor(nowMs));
  for (let i = TIME_BYTES - 1; i >= 0; i--) {
    out[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  out.set(random, TIME_BYTES);
  const day = Math.floor(nowMs / MS_PER_DAY) & 0xffff;
  out[14] = day >>> 8;
  out[15] = day & 0xff;
  return out;
}

/** Encodes a table number and 16-byte internal id as a Convex id string. */
export function encodeDocumentId(tableNumber: number, internalId: Uint8Array): string {
  if (!Number.isInteger(tableNumber) || tableNumber <= 0 || tableNumber > MAX_TABLE_NUMBER) {
    throw new EngineError("InvalidTableNumber", `Table number ${tableNumber} is out of range`, "fatal");
  }
  if (internalId.length !== INTERNAL_ID_LENGTH) {
    throw new EngineError("InvalidInternalId", `Internal id must be ${INTERNAL_ID_LENGTH} bytes`, "fatal");
  }
  const vint = encodeVInt(tableNumber);
  const bytes = new Uint8Array(vint.length + INTERNAL_ID_LENGTH + 2);
  bytes.set(vint, 0);
  bytes.set(internalId, vint.length);
  const footer = fletcher16(bytes, bytes.length - 2);
  bytes[bytes.length - 2] = footer & 0xff;
  bytes[bytes.length - 1] = footer >>> 8;
  return encodeBase32(bytes);
}

/**
 * Decodes an id string, or returns null when it is not a well-formed Convex id (wrong
 * length or alphabet, bad checksum, table number 0, or a non-canonical spelling).
 */
export function tryDecodeDocumentId(id: string): DecodedDocumentId | null {
  if (typeof id !== "string" || id.length < MIN_ID_LENGTH || id.length > MAX_ID_LENGTH) return null;
  const bytes = decodeBase32(id);
  if (bytes === null) return null;
  const vint = decodeVInt(bytes);
  if (vint === null) return null;
  const { value: tableNumber, length } = vint;
  if (tableNumber === 0 || bytes.length !== length + INTERNAL_ID_LENGTH + 2) return null;
  const footer = bytes[bytes.length - 2] | (bytes[bytes.length - 1] << 8);
  if (footer !== fletcher16(bytes, bytes.length - 2)) return null;
  const internalId = bytes.slice(length, length + INTERNAL_ID_LENGTH);
  // A canonical id re-encodes to itself; this rejects padded VInts and stray low bits.
  if (encodeDocumentId(tableNumber, internalId) !== id) return null;
  return { tableNumber, internalId };
}

/** Decodes an id string or throws `EngineError("InvalidId")`. */
export function decodeDocumentId(id: string): DecodedDocumentId {
  const decoded = tryDecodeDocumentId(id);
  if (decoded === null) {
    throw new EngineError("InvalidId", `Invalid ID: ${JSON.stringify(String(id))} is not a valid document ID`);
  }
  return decoded;
}

/**
 * Table numbers of recently seen valid ids. Decoding (base32, checksum and
 * the canonical re-encoding) costs microseconds, and the same ids come back
 * all the time: every `db.get`, every `v.id()` check, the authors on each
 * feed page. Two generations: once the young one is full it becomes the old
 * one and the previous old one is dropped whole. (Evicting one key at a time
 * with `keys().next()` walked the holes V8's ordered hash map keeps for
 * deleted entries: ~20 µs per new id once full, ~3% of the writer's CPU in
 * the durable-likes benchmark.)
 */
const ID_CACHE_GENERATION = 10_000;
let youngIds = new Map<string, number>();
let oldIds = new Map<string, number>();

/** The table number of an id, or null when the id does not decode. */
export function tableNumberOfId(id: string): number | null {
  const cached = youngIds.get(id) ?? oldIds.get(id);
  if (cached !== undefined) return cached;
  const decoded = tryDecodeDocumentId(id);
  if (decoded === null) return null;
  if (youngIds.size >= ID_CACHE_GENERATION) {
    oldIds = youngIds;
    youngIds = new Map();
  }
  youngIds.set(id, decoded.tableNumber);
  return decoded.tableNumber;
}

function encodeVInt(value: number): Uint8Array {
  const out: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return Uint8Array.from(out);
}

function decodeVInt(bytes: Uint8Array): { value: number; length: number } | null {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 5 && i < bytes.length; i++) {
    const byte = bytes[i];
    value += (byte & 0x7f) * scale;
    scale *= 128;
    if ((byte & 0x80) === 0) return value > MAX_TABLE_NUMBER ? null : { value, length: i + 1 };
  }
  return null;
}

/** Fletcher-16 as the backend computes it: both sums modulo 256. */
function fletcher16(bytes: Uint8Array, length: number): number {
  let c0 = 0;
  let c1 = 0;
  for (let i = 0; i < length; i++) {
    c0 = (c0 + bytes[i]) & 0xff;
    c1 = (c1 + c0) & 0xff;
  }
  return (c1 << 8) | c0;
}
