import type { MutationCtx } from "../_generated/server";
import { BATCH_SIZE } from "../lib/limits";

/**
 * Large deletions run as chains of bounded batches. A deleted post or account
 * disappears at once (its document goes first, and every reader skips rows
 * that point at a missing post or user); the rows that pointed at it are then
 * removed BATCH_SIZE at a time, the first batch in the deleting mutation
 * itself, the rest in scheduled ones. Each row removal adjusts the counters
 * it was counted in within the same transaction, so counters equal their
 * rows at every moment, including mid-cascade.
 */

/** How a phase spent its share of a batch. */
export type PhaseResult = { used: number; done: boolean };

/** One kind of row to remove, given what is left of the batch's budget. */
export type Phase<T> = (ctx: MutationCtx, id: T, budget: number) => Promise<PhaseResult>;

/** Runs `phases` in order within one budget; true while work remains. */
export async function runPhases<T>(ctx: MutationCtx, id: T, phases: Phase<T>[]): Promise<boolean> {
  let budget = BATCH_SIZE;
  for (const phase of phases) {
    const { used, done } = await phase(ctx, id, budget);
    budget -= used;
    if (!done || budget <= 0) return true;
  }
  return false;
}

/** Handles `rows` with `each`; the phase is done when fewer than `limit` came back. */
export async function drain<R>(
  rows: R[],
  limit: number,
  each: (row: R) => Promise<void>,
): Promise<PhaseResult> {
  for (const row of rows) await each(row);
  return { used: rows.length, done: rows.length < limit };
}
