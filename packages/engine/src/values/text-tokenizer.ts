/**
 * Convex's text analyzer for search indexes, written out because no npm package reproduces
 * Tantivy's: `SimpleTokenizer` (runs of Unicode alphanumerics, i.e. Rust's
 * `char::is_alphanumeric` = Alphabetic or Numeric), then `RemoveLongFilter(32)` (a term of
 * 32 UTF-8 bytes or more is dropped, not cut), then `LowerCaser` (per character). The same
 * function tokenizes stored text and search queries, so both sides always agree.
 * (Convex: `crates/search/src/constants.rs`, `convex_en`.)
 */

/** Terms of this many UTF-8 bytes or more are dropped from text and queries. */
export const MAX_TERM_BYTES = 32;
/** Only the first this many terms of a search query count; the rest are ignored. */
export const MAX_QUERY_TERMS = 16;

const WORD = /[\p{Alphabetic}\p{N}]+/gu;
const ASCII = /^[\x00-\x7f]*$/;

/** The terms of `text`, in order, duplicates kept; only the first `max` when given. */
export function tokenize(text: string, max = Infinity): string[] {
  const out: string[] = [];
  for (const match of text.matchAll(WORD)) {
    if (out.length >= max) break;
    const word = match[0];
    if (Buffer.byteLength(word, "utf8") >= MAX_TERM_BYTES) continue;
    out.push(lowerCase(word));
  }
  return out;
}

/** One term of a search query: the last one also matches terms it is a prefix of. */
export interface QueryTerm {
  token: string;
  prefix: boolean;
}

/**
 * The terms of a search query: its first 16 terms, the last of them a prefix term
 * (typeahead). Empty when the text has no term, and such a query matches nothing.
 */
export function queryTerms(text: string): QueryTerm[] {
  // A long search text costs only its first terms.
  const tokens = tokenize(text, MAX_QUERY_TERMS);
  return tokens.map((token, i) => ({ token, prefix: i === tokens.length - 1 }));
}

/**
 * Lower-cases one character at a time, like Rust's `char::to_lowercase`: JS's
 * `toLowerCase` on a whole string applies the context-dependent final sigma rule.
 */
function lowerCase(word: string): string {
  if (ASCII.test(word)) return word.toLowerCase();
  let out = "";
  for (const ch of word) out += ch.toLowerCase();
  return out;
}
