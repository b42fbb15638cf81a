import type { JSONValue } from "convex/values";
import { EngineError } from "../errors.js";
import { guardFrame } from "./frame-guard.js";

/**
 * Messages the official client sends over the sync socket
 * (convex-interface.md §5.2), parsed from untrusted JSON text. Anything that
 * does not have the shape the client produces is a protocol error: the
 * connection cannot continue, because its version bookkeeping would drift.
 */

/** First message of every (re)connect. */
export interface ConnectMessage {
  type: "Connect";
  sessionId: string;
  connectionCount: number;
  lastCloseReason: string | null;
  /** Base64 u64; absent on a client's first connection. */
  maxObservedTimestamp: string | null;
  /** The client's clock in ms, for `clientClockSkew`. */
  clientTs: number | null;
}

/** Subscribes to a query under a client-chosen id. */
export interface AddQuery {
  type: "Add";
  queryId: number;
  udfPath: string;
  /** The arguments object (the wire carries it as a one-element array). */
  args: JSONValue;
  /** The last journal the client received for this query; undefined when it never got one. */
  journal: string | null | undefined;
}

/** Unsubscribes a query id. */
export interface RemoveQuery {
  type: "Remove";
  queryId: number;
}

/** One change to the query set. */
export type QuerySetModification = AddQuery | RemoveQuery;

/** Changes the query set from `baseVersion` to `newVersion`. */
export interface ModifyQuerySetMessage {
  type: "ModifyQuerySet";
  baseVersion: number;
  newVersion: number;
  modifications: QuerySetModification[];
}

/** A mutation or an action request; `requestId` is unique per client session. */
export interface RequestMessage {
  type: "Mutation" | "Action";
  requestId: number;
  udfPath: string;
  args: JSONValue;
}

/** What an Authenticate message carries. */
export type AuthenticateToken =
  | { tokenType: "User"; value: string }
  | { tokenType: "Admin"; value: string; impersonating: Record<string, unknown> | null }
  | { tokenType: "None" };

/** Sets (or with `None` clears) the connection's identity. */
export type AuthenticateMessage = { type: "Authenticate"; baseVersion: number } & AuthenticateToken;

/** Client telemetry; ignored. */
export interface EventMessage {
  type: "Event";
}

/** Every client message. */
export type ClientMessage =
  | ConnectMessage
  | ModifyQuerySetMessage
  | (RequestMessage & { type: "Mutation" })
  | (RequestMessage & { type: "Action" })
  | AuthenticateMessage
  | EventMessage;

/** A message the protocol does not allow; the connection ends with a FatalError. */
export function protocolError(code: string, message: string): EngineError {
  return new EngineError(code, message, "client");
}

/**
 * Parses one text frame; throws a protocol error (code `BadClientMessage`) for
 * anything malformed. Frames too deep or too costly to parse are refused
 * before `JSON.parse` (`frame-guard.ts`), so nothing recursive (argument
 * keys, decoding) or shared (the subscription registry) ever sees them.
 */
export function parseClientMessage(text: string): ClientMessage {
  guardFrame(text);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw bad("a client message must be JSON");
  }
  const m = asObject(raw, "message");
  switch (m.type) {
    case "Connect":
      return {
        type: "Connect",
        sessionId: str(m.sessionId, "Connect.sessionId"),
        connectionCount: typeof m.connectionCount === "number" ? m.connectionCount : 0,
        lastCloseReason: typeof m.lastCloseReason === "string" ? m.lastCloseReason : null,
        maxObservedTimestamp: typeof m.maxObservedTimestamp === "string" ? m.maxObservedTimestamp : null,
        clientTs: typeof m.clientTs === "number" && Number.isFinite(m.clientTs) ? m.clientTs : null,
      };
    case "ModifyQuerySet": {
      if (!Array.isArray(m.modifications)) throw bad("ModifyQuerySet.modifications must be an array");
      return {
        type: "ModifyQuerySet",
        baseVersion: int(m.baseVersion, "ModifyQuerySet.baseVersion"),
        newVersion: int(m.newVersion, "ModifyQuerySet.newVersion"),
        modifications: m.modifications.map(parseModification),
      };
    }
    case "Mutation":
    case "Action":
      return {
        type: m.type,
        requestId: int(m.requestId, `${m.type}.requestId`),
        udfPath: str(m.udfPath, `${m.type}.udfPath`),
        args: argsObject(m.args, m.type),
      };
    case "Authenticate":
      return { type: "Authenticate", baseVersion: int(m.baseVersion, "Authenticate.baseVersion"), ...parseToken(m) };
    case "Event":
      return { type: "Event" };
    default:
      throw bad(`unknown message type ${JSON.stringify(m.type)}`);
  }
}

function parseModification(raw: unknown): QuerySetModification {
  const m = asObject(raw, "query set modification");
  switch (m.type) {
    case "Add": {
      const journal = m.journal;
      if (journal !== undefined && journal !== null && typeof journal !== "string") throw bad("Add.journal must be a string or null");
      return {
        type: "Add",
        queryId: int(m.queryId, "Add.queryId"),
        udfPath: str(m.udfPath, "Add.udfPath"),
        args: argsObject(m.args, "Add"),
        journal,
      };
    }
    case "Remove":
      return { type: "Remove", queryId: int(m.queryId, "Remove.queryId") };
    default:
      throw bad(`unknown query set modification ${JSON.stringify(m.type)}`);
  }
}

function parseToken(m: Record<string, unknown>): AuthenticateToken {
  switch (m.tokenType) {
    case "User":
      return { tokenType: "User", value: str(m.value, "Authenticate.value") };
    case "Admin": {
      const impersonating = m.impersonating;
      if (impersonating !== undefined && impersonating !== null && (typeof impersonating !== "object" || Array.isArray(impersonating))) {
        throw bad("Authenticate.impersonating must be an object");
      }
      return { tokenType: "Admin", value: str(m.value, "Authenticate.value"), impersonating: (impersonating as Record<string, unknown>) ?? null };
    }
    case "None":
      return { tokenType: "None" };
    default:
      throw bad(`unknown tokenType ${JSON.stringify(m.tokenType)}`);
  }
}

/** The wire wraps the arguments object in a one-element array. */
function argsObject(raw: unknown, where: string): JSONValue {
  if (!Array.isArray(raw) || raw.length !== 1) throw bad(`${where}.args must be a one-element array`);
  return raw[0] as JSONValue;
}

function asObject(raw: unknown, what: string): Record<string, unknown> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw bad(`${what} must be an object`);
  return raw as Record<string, unknown>;
}

function str(raw: unknown, what: string): string {
  if (typeof raw !== "string") throw bad(`${what} must be a string`);
  return raw;
}

function int(raw: unknown, what: string): number {
  if (typeof raw !== "number" || !Number.isSafeInteger(raw) || raw < 0) throw bad(`${what} must be a non-negative integer`);
  return raw;
}

function bad(why: string): EngineError {
  return protocolError("BadClientMessage", `Invalid client message: ${why}.`);
}
