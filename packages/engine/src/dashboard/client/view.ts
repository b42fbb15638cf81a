import type { AdminClient } from "./admin-client.js";
import type { LiveUpdates } from "./live-updates.js";

/** What every view is given by the shell. */
export interface ViewContext {
  api: AdminClient;
  /** Goes to a route (`"#/data/users"`); `replace` keeps it out of the history. */
  navigate(hash: string, replace?: boolean): void;
  /** A short message in the page's corner. */
  notify(message: string, tone?: "info" | "success" | "error"): void;
  /** Commits and new calls as they happen. */
  live: LiveUpdates;
}

/** A section of the dashboard (Data, Files, …) as the shell mounts it. */
export interface View {
  readonly element: HTMLElement;
  /** The route changed within this section (another table, a document opened). */
  update?(params: string[]): void;
  /** A key pressed outside any text field; true when the view used it. */
  onKey?(event: KeyboardEvent): boolean;
  /** Reloads what the view shows (the `r` key). */
  refresh?(): void;
  /** The view is being removed: stop timers and live subscriptions. */
  dispose?(): void;
}

/** Builds a view for a route's parameters. */
export type ViewFactory = (context: ViewContext, params: string[]) => View;

/** The message of anything thrown, for showing to the user. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
