/**
 * A bounded cache of committed document text by id, so that hot documents (the author of
 * every post on a feed) are answered without a SQLite lookup. The store keeps it exact:
 * it holds committed text only — a document written by the open transaction is dropped
 * from it and not cached again before that transaction ends — and nothing else writes
 * the file while the store has it open.
 */
export interface DocumentCache {
  /** The cached text, `null` for a cached "no such document", undefined when not cached. */
  get(id: string): string | null | undefined;
  /** Caches the committed text of `id` (or its absence), evicting the least recently used. */
  set(id: string, text: string | null): void;
  /** Forgets `id`. */
  delete(id: string): void;
  /** Forgets everything. */
  clear(): void;
}

/** Creates a least-recently-used cache of at most `capacity` documents (0 disables it). */
export function createDocumentCache(capacity: number): DocumentCache {
  // A Map iterates in insertion order: re-inserting on a hit makes the first key the LRU.
  const entries = new Map<string, string | null>();
  return {
    get(id) {
      const text = entries.get(id);
      if (text !== undefined) {
        entries.delete(id);
        entries.set(id, text);
      }
      return text;
    },
    set(id, text) {
      if (capacity <= 0) return;
      entries.delete(id);
      entries.set(id, text);
      if (entries.size > capacity) entries.delete(entries.keys().next().value as string);
    },
    delete: (id) => void entries.delete(id),
    clear: () => entries.clear(),
  };
}
