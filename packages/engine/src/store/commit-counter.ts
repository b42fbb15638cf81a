/**
 * How many commits the connections of one engine have made to its SQLite file, in memory
 * shared by the engine's threads (each thread opens its store with the same
 * `SharedArrayBuffer`, `StoreOptions.commitCounter`).
 *
 * A connection bumps it as soon as its COMMIT returns, on the committing thread, before it
 * tells anyone anything about that commit (announcement, answers, the workers' commit
 * notices). So a reader that read the count before beginning its snapshot, and reads the
 * same count later, knows its snapshot still holds every commit anybody could have heard
 * of: reading at it then is the same as beginning a new one (`Store.pauseRead`). A commit
 * whose COMMIT has returned but whose bump has not happened yet may be missing from such a
 * snapshot; nobody can know of it yet, so the read is as if it had begun a moment earlier.
 *
 * The count wraps at 2^32; two reads that are 2^32 commits apart are not a concern.
 */
export class CommitCounter {
  private readonly word: Int32Array;

  constructor(
    /** The shared memory, handed to other threads as is (allocated here when not given). */
    readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT),
  ) {
    this.word = new Int32Array(buffer, 0, 1);
  }

  /** A commit was made: called right after its COMMIT returned. */
  bump(): void {
    Atomics.add(this.word, 0, 1);
  }

  /** The current count (sequentially consistent with every thread's `bump`). */
  read(): number {
    return Atomics.load(this.word, 0);
  }
}
