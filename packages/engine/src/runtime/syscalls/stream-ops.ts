import { EngineError } from "../../errors.js";
import type { IndexRow } from "../../store/store.js";
import type { ExecutionContext as Execution } from "../execution-context.js";
import type { DocumentStream } from "../runtime-database.js";
import { budgetOf, type TransactionBudget } from "../transaction-budget.js";
import { AsyncFailure, DocumentList, StreamItem, type OpHandler } from "./op-types.js";

/**
 * Query streams (convex-interface.md §3.1): `1.0/queryStream` opens one, each
 * `1.0/queryStreamNext` answers its next document, `1.0/queryCleanup` closes it.
 *
 * `engine/queryStreamRest` is the engine's own: it answers every document left in an
 * open stream at once, reading exactly as that many `1.0/queryStreamNext` would (the
 * same stream, the same budget checks, in the same order), and closes it. Only the
 * substituted query builder of the worker threads sends it (`convex-shim/query-impl.ts`:
 * `collect()`); the official package never does.
 *
 * `engine/queryTake` is the engine's too, for `take(n)` (so `first()`, `unique()`): one
 * synchronous syscall that does what `1.0/queryStream` then `engine/queryStreamRest` do,
 * in the same order, with the same reads, budget checks and read set. An error of the
 * opening is thrown as `1.0/queryStream` throws it; an error of the reading comes as an
 * `AsyncFailure`, which the query builder throws as a failed async syscall (the way the
 * reading reached it before). Only the stream's id, which user code never sees, is not
 * taken.
 */

export const STREAM_SYNC_OPS: Record<string, OpHandler> = {
  "1.0/queryStream": (exec, args: { query: unknown }) => {
    const tx = exec.requireTx("db.query");
    budgetOf(tx).indexRange();
    const id = exec.nextStreamId++;
    exec.streams.set(id, exec.db.openStream(args.query, tx.reads));
    return { queryId: id };
  },
  "engine/queryTake": (exec, args: { query: unknown }) => {
    const tx = exec.requireTx("db.query");
    const budget = budgetOf(tx);
    budget.indexRange();
    const stream = exec.db.openStream(args.query, tx.reads);
    // The first row makes a list of one (a `first()` reads at most one row; a push onto
    // `[]` would allocate room for 17), later rows are pushed.
    let rows: IndexRow[] = NO_ROWS;
    try {
      // The stream is closed after, whatever happens: `drain` may then skip the scanner
      // and pipeline a stream read row by row needs (`query-stream.ts`).
      stream.drain((row) => {
        budget.documentRead(row.text.length);
        if (rows === NO_ROWS) rows = [row];
        else rows.push(row);
      });
    } catch (e) {
      throw new AsyncFailure(e);
    }
    return new DocumentList(rows);
  },
  "1.0/queryCleanup": (exec, args: { queryId: number }) => {
    const stream = exec.streams.get(args.queryId);
    if (stream === undefined) return false;
    stream.close();
    exec.streams.delete(args.queryId);
    return true;
  },
};

/** The rows of a take that found none (shared: nothing changes a reply's rows). */
const NO_ROWS: IndexRow[] = [];

export const STREAM_ASYNC_OPS: Record<string, OpHandler> = {
  "1.0/queryStreamNext": (exec, args: { queryId: number }) => {
    const doc = nextDocument(exec, args.queryId);
    return doc === null ? { value: null, done: true } : new StreamItem(doc);
  },
  "engine/queryStreamRest": (exec, args: { queryId: number }) => {
    const budget = budgetOf(exec.requireTx("db.query"));
    const stream = openStream(exec, args.queryId);
    const rows = readRest(stream, budget);
    stream.close();
    exec.streams.delete(args.queryId);
    return new DocumentList(rows);
  },
};

/**
 * Every document left in `stream`, in order, each counted against the budget after it is
 * read, as that many `1.0/queryStreamNext` count them (`engine/queryTake` does the same
 * through `drain`). A failure leaves the stream open, as upstream's loop would.
 */
function readRest(stream: DocumentStream, budget: TransactionBudget): IndexRow[] {
  const rows: IndexRow[] = [];
  for (let row = stream.nextRow(); row !== null; row = stream.nextRow()) {
    budget.documentRead(row.text.length);
    rows.push(row);
  }
  return rows;
}

function openStream(exec: Execution, queryId: number): DocumentStream {
  const stream = exec.streams.get(queryId);
  if (stream === undefined) throw new EngineError("QueryNotFound", `Query ${queryId} is not open.`);
  return stream;
}

/** The stream's next document (text), or null when it ended (it is closed then). */
function nextDocument(exec: Execution, queryId: number): string | null {
  const tx = exec.requireTx("db.query");
  const stream = openStream(exec, queryId);
  const doc = stream.next();
  if (doc === null) {
    stream.close();
    exec.streams.delete(queryId);
    return null;
  }
  budgetOf(tx).documentRead(doc.length);
  return doc;
}
