import type { WalSync } from "./wal-sync.js";

/**
 * What depends on the writer's commits waits here for their durability (runs on the main
 * thread). Each commit the writer reports starts a WAL sync (`wal-sync.ts`), or was synced
 * by the writer inside its COMMIT; announcements and answers then run in the order the
 * writer reported them, each once every commit reported before it is durable. The writer
 * reports a commit before the answers that depend on it, so an answer waits for the
 * latest sync and asks for none.
 */
export class DurableOrder {
  /** Announcements and answers, in the order the writer reported them, each once durable. */
  private ordered: Promise<unknown> = Promise.resolve();
  /** The sync that covers every commit reported so far (false: it failed). */
  private synced: Promise<boolean> = Promise.resolve(true);

  /** `walSync` null: the writer's own `synchronous` setting makes commits durable (or not) as they are made. */
  constructor(
    private readonly walSync: WalSync | null,
    private readonly logInternal: (e: unknown) => void,
  ) {}

  /** Whether this thread syncs the WAL (the writer then commits with `synchronous=NORMAL`). */
  get syncsWal(): boolean {
    return this.walSync !== null;
  }

  /**
   * The writer reported a commit: a sync that covers it starts now, or after the running
   * one. A commit the writer synced itself covers every earlier one too (the WAL is
   * appended in order).
   */
  commitReported(syncedByWriter: boolean): void {
    if (syncedByWriter) {
      this.synced = Promise.resolve(true);
      return;
    }
    if (this.walSync === null) return;
    this.synced = this.walSync.sync().then(
      () => true,
      (e: unknown) => {
        this.logInternal(e);
        return false;
      },
    );
  }

  /**
   * Runs `then` once every commit reported so far is durable, and after everything queued
   * before it; `durable` is false when the WAL could not be synced.
   */
  whenDurable<T>(then: (durable: boolean) => T): Promise<T> {
    const step = Promise.all([this.ordered, this.synced]).then(([, durable]) => then(durable));
    this.ordered = step.catch((e: unknown) => this.logInternal(e));
    return step;
  }

  /** fdatasync calls made and the time they took (ms). */
  stats(): { flushes: number; flushMs: number } {
    return this.walSync?.stats() ?? { flushes: 0, flushMs: 0 };
  }

  /** Waits for everything queued (answers of batches already run), then closes the WAL file. */
  async close(): Promise<void> {
    await this.ordered;
    this.walSync?.close();
  }
}
