import { MAX_JSON_DEPTH } from "../values/value-limits.js";

/**
 * Bounds on what an import may make the engine read, so that a hostile or
 * broken file (a 300 MB JSONL line, a zip bomb, `[[[[…` a million levels deep)
 * is refused with a clear error instead of exhausting memory, disk or the stack.
 * Every bound is checked on raw bytes before a parser allocates for them.
 */
export interface ImportLimits {
  /** Longest document line (JSONL, a ZIP's documents.jsonl, one element of a JSON array, one CSV record), bytes. */
  maxLineBytes: number;
  /** Deepest nesting of arrays and objects in one line's JSON. */
  maxDepth: number;
  /** Largest decompressed ZIP entry (one table's documents.jsonl, one stored file), bytes. */
  maxEntryBytes: number;
  /** Largest total of all decompressed ZIP entries, bytes. */
  maxTotalBytes: number;
  /** Most entries in a ZIP. */
  maxEntries: number;
  /**
   * Highest decompressed/compressed ratio of a ZIP entry larger than
   * `RATIO_FREE_BYTES`. Real data compresses well below it; Deflate's ceiling
   * (~1032:1) is what bombs use.
   */
  maxRatio: number;
}

/** Entries up to this size are not ratio-checked (a small file of zeros is harmless). */
export const RATIO_FREE_BYTES = 1 << 20;

/**
 * The defaults: a Convex document is at most 1 MiB, whose JSON text may be
 * longer (escapes, base64 bytes), hence 16 MiB per line. JSON depth is the
 * engine's one bound for all JSON it parses (`MAX_JSON_DEPTH`), checked here on
 * the text so the recursive parser never sees more; each document is then held
 * to Convex's document limits (16 levels, 1 MiB) by the writer. Entries and
 * totals are sized for one machine's data and its disk.
 */
export const DEFAULT_IMPORT_LIMITS: ImportLimits = Object.freeze({
  maxLineBytes: 16 * 1024 * 1024,
  maxDepth: MAX_JSON_DEPTH,
  maxEntryBytes: 4 * 1024 ** 3,
  maxTotalBytes: 16 * 1024 ** 3,
  maxEntries: 1_000_000,
  maxRatio: 200,
});
