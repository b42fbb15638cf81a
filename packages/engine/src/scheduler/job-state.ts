/**
 * The states of a `_scheduled_functions` document (convex-interface.md §4.8):
 * `pending` → (`inProgress`, actions only) → `success` | `failed` | `canceled`.
 * A mutation never shows `inProgress`: its state flips in its own transaction.
 */
export type JobState =
  | { kind: "pending" }
  | { kind: "inProgress" }
  | { kind: "success" }
  | { kind: "failed"; error: string }
  | { kind: "canceled" };

/** A job as the scheduler tracks it (decoded from its document). */
export interface JobEntry {
  id: string;
  /** `"posts.js:notify"`, as stored. */
  name: string;
  /** The component whose function `name` is (`""` for the app). */
  component: string;
  /** When it is due, ms since the epoch (deployment clock). */
  scheduledTime: number;
  state: JobState["kind"];
  /** Its `by_creation_time` key; ties in `scheduledTime` run in creation order. */
  key: Buffer;
}

/** The error recorded for an action that was running when the engine stopped. */
export const INTERRUPTED_ACTION_ERROR =
  "The engine stopped while this action was running. Actions run at most once, so it was not retried.";

/** True for states a job never leaves. */
export function isFinished(kind: JobState["kind"]): boolean {
  return kind === "success" || kind === "failed" || kind === "canceled";
}
