import type { Store } from "../../store/store.js";
import { createRuntimeDatabase } from "../database-adapter.js";
import type { RuntimeDatabase } from "../runtime-database.js";

/** Most snapshots one worker keeps pinned (each holds a connection and keeps the WAL from being reset). */
const MAX_PINS = 4;

/**
 * Snapshots a query worker holds for `/api/query_at_ts` and `consistentQuery` (worker
 * thread). Each is a read transaction on a connection of its own, with no document or
 * scan cache (those follow the main connection's snapshots).
 */
export class SnapshotPins {
  /** Pinned snapshots by ts, oldest first. */
  private readonly pins = new Map<bigint, { store: Store; db: RuntimeDatabase; timer: NodeJS.Timeout }>();

  constructor(private readonly openPinStore: () => Store) {}

  /**
   * Pins the latest snapshot for `holdMs` and returns its ts (the same ts again if it is
   * already pinned). At most MAX_PINS are held; a new one releases the oldest.
   */
  pin(holdMs: number): bigint {
    const store = this.openPinStore();
    const ts = store.beginSnapshot();
    const held = this.pins.get(ts);
    if (held !== undefined) {
      store.close();
      held.timer.refresh();
      return ts;
    }
    if (this.pins.size >= MAX_PINS) this.unpin(this.pins.keys().next().value!);
    const timer = setTimeout(() => this.unpin(ts), holdMs);
    timer.unref();
    this.pins.set(ts, { store, db: createRuntimeDatabase(store), timer });
    return ts;
  }

  /** The database reading the pinned snapshot `ts`, or null when it is not (or no longer) held. */
  database(ts: bigint): RuntimeDatabase | null {
    return this.pins.get(ts)?.db ?? null;
  }

  private unpin(ts: bigint): void {
    const pinned = this.pins.get(ts);
    if (pinned === undefined) return;
    clearTimeout(pinned.timer);
    this.pins.delete(ts);
    pinned.store.close();
  }
}
