import type { JSONValue } from "convex/values";
import type { ExecutionContext as Execution } from "../execution-context.js";
import { EngineError } from "../../errors.js";
import type { IndexRow } from "../../store/store.js";
import { parsedDocument, parsedRow } from "./parsed-documents.js";

/** A reply held in an encoded form: the text protocol asks for `text()`, the object protocol for `value()`. */
export abstract class EncodedReply {
  abstract text(): string;
  abstract value(): JSONValue;
}

/**
 * JSON that is already text (a function's result, an identity): the object path parses
 * it once, the text path passes it on as it is.
 */
export class JsonText extends EncodedReply {
  constructor(private readonly json: string) {
    super();
  }

  text(): string {
    return this.json;
  }

  value(): JSONValue {
    return JSON.parse(this.json) as JSONValue;
  }
}

/**
 * A stored document's text (`1.0/get`). On the object protocol its parsed value comes
 * from `parsed-documents.ts`, shared with every other execution on this thread that reads
 * the same text: the official package copies each document with `jsonToConvex` before
 * user code sees it (`database_impl.js`, `query_impl.js`), so no execution can change
 * what another one gets.
 */
export class DocumentText extends JsonText {
  constructor(private readonly document: string) {
    super(document);
  }

  override value(): JSONValue {
    return parsedDocument(this.document);
  }
}

/** A `1.0/queryStreamNext` item, `{ value: <document>, done: false }`; its document is shared as in `DocumentText`. */
export class StreamItem extends EncodedReply {
  constructor(private readonly document: string) {
    super();
  }

  text(): string {
    return `{"value":${this.document},"done":false}`;
  }

  value(): JSONValue {
    return { value: parsedDocument(this.document), done: false };
  }
}

/**
 * Scanned documents as a JSON array (`engine/queryStreamRest`, `engine/queryTake`);
 * documents shared as in `DocumentText`, each parse kept on its row (`parsedRow`).
 */
export class DocumentList extends EncodedReply {
  constructor(private readonly rows: readonly IndexRow[]) {
    super();
  }

  text(): string {
    return `[${this.rows.map((row) => row.text).join(",")}]`;
  }

  value(): JSONValue {
    const rows = this.rows;
    const out: JSONValue[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) out[i] = parsedRow(rows[i]!);
    return out;
  }
}

/** A `1.0/queryPage` answer: its documents' texts and the page's other fields; documents shared as in `DocumentText`. */
export class PageReply extends EncodedReply {
  constructor(
    private readonly documents: readonly string[],
    private readonly rest: { isDone: boolean; continueCursor: string; splitCursor: string | null; pageStatus: string | null },
  ) {
    super();
  }

  text(): string {
    const { isDone, continueCursor, splitCursor, pageStatus } = this.rest;
    return (
      `{"page":[${this.documents.join(",")}],"isDone":${isDone},` +
      `"continueCursor":${JSON.stringify(continueCursor)},` +
      `"splitCursor":${JSON.stringify(splitCursor)},"pageStatus":${JSON.stringify(pageStatus)}}`
    );
  }

  value(): JSONValue {
    const { isDone, continueCursor, splitCursor, pageStatus } = this.rest;
    return { page: this.documents.map(parsedDocument), isDone, continueCursor, splitCursor, pageStatus };
  }
}

const ASYNC_FAILURE: unique symbol = Symbol.for("convex-local.asyncFailure") as never;

/**
 * Thrown by a synchronous syscall for a failure that the official protocol reports from
 * an async one (`engine/queryTake`'s reading, which `engine/queryStreamRest` did): the
 * substituted query builder throws `rejection` as a failed async syscall (`syscall.ts`
 * `asyncSyscallError`). `rejection` is what the async path would have rejected with.
 */
export class AsyncFailure {
  /** The mark the query builder knows it by (`convex-shim/syscall-errors.ts`). */
  readonly [ASYNC_FAILURE] = true;
  readonly rejection: unknown;

  constructor(error: unknown) {
    this.rejection = asSyscallRejection(error);
  }
}

/**
 * Pagination errors reach user code as a ConvexError with the data the
 * official `usePaginatedQuery` looks for, so it resets itself (§4.4).
 */
export function asSyscallRejection(e: unknown): unknown {
  if (e instanceof EngineError && e.code === "InvalidCursor") {
    return { message: `InvalidCursor: ${e.message}`, data: { isConvexSystemError: true, paginationError: "InvalidCursor" } };
  }
  return e;
}

/** What a syscall answers: a JSON value, or one held encoded (see `EncodedReply`). */
export type OpReply = JSONValue | EncodedReply;

/**
 * A syscall handler: decoded JSON arguments in, a JSON value (or text) out. The same
 * handler serves the official package's text protocol (`Convex.syscall`, on the main
 * thread) and the object protocol of the substituted `syscall.js` (worker threads).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type OpHandler = (exec: Execution, args: any) => OpReply | Promise<OpReply>;

/** A JS syscall handler: raw JS values in and out (Blobs). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JsOpHandler = (exec: Execution, args: any) => unknown;

/** The reply as JSON text (the official package's protocol). */
export function replyText(reply: OpReply): string {
  return reply instanceof EncodedReply ? reply.text() : JSON.stringify(reply);
}

/** The reply as a JSON value (the object protocol); text is parsed here, once. */
export function replyValue(reply: OpReply): JSONValue {
  return reply instanceof EncodedReply ? reply.value() : reply;
}
