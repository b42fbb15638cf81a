import type { Runtime } from "../runtime/runtime.js";
import type { ConnectionQuery } from "./connection-view.js";
import type { RoundStats } from "./round-stats.js";
import { encodeResult } from "./server-message.js";
import type { Subscription, SubscriptionRegistry } from "./subscription-registry.js";

/**
 * Runs one stale subscription inside an update round's slice (the executor lock is held,
 * so it reads the round's snapshot) and records its result text, journal and read set in
 * the registry, where every connection watching it picks the result up.
 */
export async function runSubscription(
  deps: { runtime: Pick<Runtime, "runQueryLocked">; logInternal: (e: unknown) => void },
  registry: SubscriptionRegistry<ConnectionQuery>,
  stats: RoundStats,
  sub: Subscription<ConnectionQuery>,
): Promise<void> {
  const { spec } = sub;
  stats.queryRuns += 1;
  stats.queryRunsByPath.set(spec.udfPath, (stats.queryRunsByPath.get(spec.udfPath) ?? 0) + 1);
  try {
    const { outcome, reads, journal } = await deps.runtime.runQueryLocked({
      path: spec.udfPath,
      args: spec.args,
      identity: spec.identity,
      allowInternal: spec.admin,
      origin: "client",
      journal: sub.journal,
    });
    // A failed run keeps the old end cursor, so a retry after the error covers the same range.
    const nextJournal = outcome.status === "success" ? journal : (journal ?? sub.journal);
    registry.recordRun(sub, encodeResult(outcome, nextJournal), nextJournal, reads.readSet());
  } catch (e) {
    // runQueryLocked reports the function's own errors as outcomes; this is an engine fault.
    // The query fails for its subscribers until it is subscribed again or new code is loaded.
    deps.logInternal(e);
    const outcome = { status: "error" as const, errorMessage: "Server error while running the query", logLines: [] };
    registry.recordRun(sub, encodeResult(outcome, sub.journal), sub.journal, { intervals: [], ids: [] });
  }
}
