/** SQLite's `synchronous` levels the store accepts. */
export type SynchronousMode = "OFF" | "NORMAL" | "FULL" | "EXTRA";

/** Services and settings a store is created with. */
export interface StoreOptions {
  /** Path of the SQLite file (created when missing). */
  path: string;
  /** Wall clock in milliseconds since the epoch (may be fractional). */
  now: () => number;
  /** Cryptographically random bytes, for document ids. */
  randomBytes: (n: number) => Uint8Array;
  /** SQLite `synchronous`; FULL by default, see `sqlite-layout.ts` for why. */
  synchronous?: SynchronousMode;
  /**
   * How many committed documents `get` keeps in memory (default 10 000; 0 turns it off).
   * The cache assumes no other process writes the file while the store is open.
   */
  documentCacheSize?: number;
  /**
   * Opens an existing file read-only (a query worker's snapshot reader): writes fail, no
   * WAL checkpoints, and `beginSnapshot()` keeps catalog and ts in step with the writer.
   */
  readOnly?: boolean;
  /**
   * The engine's count of commits to this file (`commit-counter.ts`), shared by every
   * connection it opens, on any thread: this store bumps it after each of its commits, and
   * a reader's `pauseRead()` keeps its snapshot only while the count stays the same.
   * Without it, `pauseRead()` is `endRead()`.
   */
  commitCounter?: SharedArrayBuffer;
  /** Told what happens when an older data file is converted to this engine's layout on open. */
  notice?: (message: string) => void;
}
