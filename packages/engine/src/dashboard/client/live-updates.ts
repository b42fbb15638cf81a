import type { AdminClient, AdminEvent } from "./admin-client.js";

/** What changed in the engine, as views subscribe to it. */
export interface LiveUpdates {
  /** Called with the tables a commit wrote (several commits arrive as one call); returns the unsubscribe function. */
  onTables(listener: (tables: Set<string>) => void): () => void;
  /** Called when calls newer than those seen are in the log; returns the unsubscribe function. */
  onCalls(listener: () => void): () => void;
  stop(): void;
}

/**
 * The page's one connection to the engine's event stream, shared by every
 * view: as on Convex's dashboard, tables, documents and logs follow the data
 * without a refresh button. `onState` reports whether the stream is up; after
 * a reconnect every listener hears "everything changed", since commits made
 * while offline were not heard.
 */
export function createLiveUpdates(api: AdminClient, onState: (connected: boolean) => void): LiveUpdates {
  const tableListeners = new Set<(tables: Set<string>) => void>();
  const callListeners = new Set<() => void>();
  let everConnected = false;
  const stop = api.events(
    (event: AdminEvent) => {
      switch (event.type) {
        case "hello":
          if (everConnected) {
            for (const l of tableListeners) l(new Set(["*"]));
            for (const l of callListeners) l();
          }
          everConnected = true;
          return;
        case "changes":
          for (const l of tableListeners) l(new Set(event.tables));
          return;
        case "calls":
          for (const l of callListeners) l();
          return;
        case "ping":
          return;
      }
    },
    onState,
  );
  return {
    onTables(listener) {
      tableListeners.add(listener);
      return () => tableListeners.delete(listener);
    },
    onCalls(listener) {
      callListeners.add(listener);
      return () => callListeners.delete(listener);
    },
    stop,
  };
}

/** True when `tables` (from `onTables`) includes `table`, or says everything may have changed. */
export function touches(tables: Set<string>, table: string): boolean {
  return tables.has(table) || tables.has("*");
}
