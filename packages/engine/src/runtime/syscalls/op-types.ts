import type { JSONValue } from "convex/values";
import type { ExecutionContext as Execution } from "../execution-context.js";

/**
 * JSON that is already text (a stored document, a function's result): the object path
 * parses it once, the text path passes it on as it is.
 */
export class JsonText {
  constructor(readonly text: string) {}
}

/** What a syscall answers: a JSON value, or JSON text (see `JsonText`). */
export type OpReply = JSONValue | JsonText;

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
  return reply instanceof JsonText ? reply.text : JSON.stringify(reply);
}

/** The reply as a JSON value (the object protocol); text is parsed here, once. */
export function replyValue(reply: OpReply): JSONValue {
  return reply instanceof JsonText ? (JSON.parse(reply.text) as JSONValue) : reply;
}
