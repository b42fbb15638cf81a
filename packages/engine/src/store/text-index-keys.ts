import { createHash } from "node:crypto";
import type { Value } from "convex/values";
import { getFieldValue } from "../values/field-path";
import { sameScalarFields } from "./document-codec";
import { sortKey } from "../values/index-key-codec";
import { tokenize } from "../values/text-tokenizer";
import type { SearchIndexRecord } from "./search-catalog";
import type { SearchIndexInfo, TextSearchQuery } from "./search-types";
import type { KeyRange } from "./store";
import type { IndexKeyChange } from "./write-set";

/**
 * How text search takes part in reactivity without the real-time layer knowing about it:
 * a text index looks like an ordinary index whose keys are the document's terms. A write
 * contributes one key change per distinct term of the old and the new document, and a search
 * reads the key intervals of its query terms, so the interval test every subscription
 * already runs (`readSetIntersects`) decides. As in Convex (`QueryReads::overlaps_document`),
 * a write matters when a version of the document holds a query term — exactly, or as a
 * completion of the prefix term — and, where the keys can tell, matches the filters.
 *
 * Key layout, under the index's own name:
 * - `T ‖ term ‖ 00`: one per distinct term, whatever the filter values.
 * - `F ‖ i ‖ h(value of filter field i) ‖ term ‖ 00`: the same once per filter field, behind
 *   a 16-byte digest of that field's value. A query with an equality filter reads only the
 *   keys of one of its filtered fields, so writes elsewhere in that field do not concern it.
 * - `*`: a document with more than `MAX_KEYED_TERMS` distinct terms writes this key alone,
 *   and every search reads it, so a long text costs one key instead of thousands.
 * Terms are alphanumeric, so they hold neither 00 nor FF (not even inside UTF-8), and
 * `prefix ‖ FF` bounds every term that extends a prefix.
 */

/** Above this many distinct terms a document is keyed by `*` alone. */
export const MAX_KEYED_TERMS = 64;

const TAG_TERM = 0x54; // "T"
const TAG_FILTERED = 0x46; // "F"
const CATCH_ALL = Buffer.from([0x2a]); // "*"
const CATCH_ALL_RANGE: KeyRange = { lo: CATCH_ALL, hi: Buffer.from([0x2b]) };
const FILTER_DIGEST_BYTES = 16;
const END = Buffer.from([0x00]);
const AFTER_TERM = Buffer.from([0x01]);
const AFTER_PREFIX = Buffer.from([0xff]);

/** The filter value of a field as Convex compares it: its sort key, hashed when 32 bytes or longer. */
export function filterValueBytes(value: Value | undefined): Buffer {
  const bytes = sortKey(value);
  return bytes.length < 32 ? bytes : createHash("sha256").update(bytes).digest();
}

/**
 * The key changes of one written document in one text index (old and/or new null when the
 * document did not exist before or after). Every term of both versions is listed even when
 * the text did not change: the search returns whole documents, so any write to a matching
 * document changes a result that contains it.
 */
export function textIndexKeyChanges(
  record: SearchIndexRecord,
  oldDoc: Record<string, Value> | null,
  newDoc: Record<string, Value> | null,
): IndexKeyChange[] {
  // A write that leaves the text and filter fields alone (a like on a post) keeps every key:
  // the same pairs the general case makes, tokenized and hashed once instead of twice.
  if (oldDoc !== null && newDoc !== null && sameScalarFields(oldDoc, newDoc, record.paths)) {
    return documentKeys(record, newDoc).map((key) => ({ index: record.name, oldKey: key, newKey: key }));
  }
  const oldKeys = oldDoc === null ? [] : documentKeys(record, oldDoc);
  const newKeys = newDoc === null ? [] : documentKeys(record, newDoc);
  const changes: IndexKeyChange[] = [];
  const remaining = new Map(newKeys.map((key) => [key.toString("latin1"), key]));
  for (const key of oldKeys) {
    const text = key.toString("latin1");
    const kept = remaining.get(text) ?? null;
    remaining.delete(text);
    changes.push({ index: record.name, oldKey: key, newKey: kept });
  }
  for (const key of remaining.values()) changes.push({ index: record.name, oldKey: null, newKey: key });
  return changes;
}

/** The key intervals a text search reads: those of its terms, and the catch-all. */
export function textSearchIntervals(index: SearchIndexInfo & { kind: "text" }, query: TextSearchQuery): KeyRange[] {
  const ranges: KeyRange[] = [CATCH_ALL_RANGE];
  // Any one equality will do (a match satisfies them all); the first filter field's is used.
  let prefix: Buffer = Buffer.from([TAG_TERM]);
  for (let i = 0; i < index.filterFields.length; i++) {
    const filter = query.filters.find((f) => f.field === index.filterFields[i]);
    if (filter !== undefined) {
      prefix = filteredPrefix(i, filterValueBytes(filter.value));
      break;
    }
  }
  for (const term of query.terms) {
    const start = Buffer.concat([prefix, Buffer.from(term.token, "utf8")]);
    ranges.push(
      term.prefix
        ? { lo: start, hi: Buffer.concat([start, AFTER_PREFIX]) }
        : { lo: Buffer.concat([start, END]), hi: Buffer.concat([start, AFTER_TERM]) },
    );
  }
  return ranges;
}

/** The keys of one document version in one text index. */
function documentKeys(record: SearchIndexRecord, doc: Record<string, Value>): Buffer[] {
  const text = getFieldValue(doc, record.paths[0]);
  const terms = new Set(typeof text === "string" ? tokenize(text) : []);
  if (terms.size > MAX_KEYED_TERMS) return [CATCH_ALL];
  const prefixes: Buffer[] = [Buffer.from([TAG_TERM])];
  for (let i = 1; i < record.paths.length; i++) {
    prefixes.push(filteredPrefix(i - 1, filterValueBytes(getFieldValue(doc, record.paths[i]))));
  }
  const keys: Buffer[] = [];
  for (const term of terms) {
    const tail = Buffer.concat([Buffer.from(term, "utf8"), END]);
    for (const prefix of prefixes) keys.push(Buffer.concat([prefix, tail]));
  }
  return keys;
}

/** `F ‖ i ‖ digest`: fixed width, so the term after it is unambiguous. */
function filteredPrefix(field: number, value: Buffer): Buffer {
  const digest = createHash("sha256").update(value).digest().subarray(0, FILTER_DIGEST_BYTES);
  return Buffer.concat([Buffer.from([TAG_FILTERED, field]), digest]);
}
