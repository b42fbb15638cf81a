import type { JSONValue } from "convex/values";
import type { IndexRow } from "../../store/store.js";
import { TwoGenerations } from "../two-generations.js";

/**
 * Parsed stored documents, keyed by their text, shared by every execution on this thread
 * (a query worker's re-runs, the writer's mutations). A feed's re-runs after one commit
 * read the same posts, authors and files: each text is parsed once, not once per run.
 *
 * Keyed by the text itself, so an entry can never be stale: a changed document has other
 * text. The documents cached by the store and the worker's scan cache are the same string
 * objects run after run, so most lookups compare pointers, not characters.
 *
 * The values are handed to the substituted `syscall.js` (`convex-shim/`), whose callers in
 * the official package (`database_impl.js` `get`, `query_impl.js` `next` and `paginate`)
 * copy every document with `jsonToConvex` before user code sees it; nothing else may
 * receive them. Not frozen: freezing would walk every value once more for nothing.
 *
 * Bounded by two generations (`TwoGenerations`).
 *
 * A scanned row keeps its parse itself (`parsedRow`): rows the scan cache hands to run
 * after run then cost no lookup here. A lookup in a map of thousands of long string keys
 * costs cache misses however equal the keys are (measured with `bench/profile-feed.ts`
 * `MODE=rerun`: ~3% of a feed re-run's worker CPU was `parsedDocument`'s own).
 */

/** Entries per generation: at most twice this many documents are held. */
const GENERATION_SIZE = 8_192;
/** Longer texts are parsed each time: holding them would cost more memory than the parse saves. */
const MAX_CACHED_LENGTH = 64 * 1024;

const documents = new TwoGenerations<string, JSONValue>(GENERATION_SIZE);
const parse = (text: string) => JSON.parse(text) as JSONValue;

/** The parsed value of a stored document's text (shared: see above). */
export function parsedDocument(text: string): JSONValue {
  return text.length > MAX_CACHED_LENGTH ? parse(text) : documents.get(text, parse);
}

/**
 * `parsedDocument` of a scanned row's text, kept on the row (`IndexRow.parsed`): never
 * stale, since a row's text never changes. Rows of a text too long to cache here keep none.
 */
export function parsedRow(row: IndexRow): JSONValue {
  const kept = row.parsed;
  if (kept !== undefined) return kept as JSONValue;
  const value = parsedDocument(row.text);
  if (row.text.length <= MAX_CACHED_LENGTH) row.parsed = value;
  return value;
}
