import { protocolError, type ModifyQuerySetMessage } from "./client-message.js";
import type { PendingChange } from "./connection-view.js";

/**
 * The query set a connection asked for, as far as its messages go: the version of the
 * last ModifyQuerySet and the query ids live after it. Checks each new ModifyQuerySet
 * against them (convex-interface.md §5.6) and turns it into the changes the update
 * rounds apply; a client that breaks the rules gets a protocol error and nothing changes.
 * Runs on the main thread, in the session's message order.
 */
export class QuerySetVersions {
  private received = 0;
  private readonly live = new Set<number>();

  /** The version of the last ModifyQuerySet accepted. */
  get version(): number {
    return this.received;
  }

  /** Validates `message` against the set so far; returns its changes and moves the version on. */
  apply(message: ModifyQuerySetMessage): PendingChange[] {
    if (message.baseVersion !== this.received) {
      throw protocolError(
        "BaseVersionMismatch",
        `ModifyQuerySet has baseVersion ${message.baseVersion}, but the query set is at version ${this.received}.`,
      );
    }
    if (message.newVersion <= message.baseVersion) {
      throw protocolError("InvalidNewVersion", `ModifyQuerySet newVersion ${message.newVersion} must exceed baseVersion ${message.baseVersion}.`);
    }
    // A refusal closes the connection (FatalError), so ids added before it need no undoing.
    const live = this.live;
    const changes: PendingChange[] = [];
    for (const modification of message.modifications) {
      if (modification.type === "Add") {
        if (live.has(modification.queryId)) {
          throw protocolError("DuplicateQueryId", `Query id ${modification.queryId} is already in the query set.`);
        }
        live.add(modification.queryId);
        const { queryId, udfPath, args, journal } = modification;
        changes.push({ kind: "add", queryId, udfPath, args, journal: journal ?? null });
      } else {
        if (!live.delete(modification.queryId)) {
          throw protocolError("UnknownQueryId", `Query id ${modification.queryId} is not in the query set.`);
        }
        changes.push({ kind: "remove", queryId: modification.queryId });
      }
    }
    this.received = message.newVersion;
    return changes;
  }
}
