import type { JSONValue } from "convex/values";
import type { AdminEvent } from "../../http/admin-events.js";
import type { FileEntry, FilePage } from "../../http/admin-files.js";
import type { TableSchema } from "../../http/admin-query.js";
import type { LoggedCall } from "../../http/call-log.js";
import type { FunctionEntry } from "../../http/admin-functions.js";
import type { PageRequest } from "../../http/document-page.js";

export type { AdminEvent, FileEntry, FunctionEntry, LoggedCall, TableSchema };

/** A table and how many documents it holds. */
export interface TableSummary {
  name: string;
  number: number;
  documents: number;
}

/** A page of documents (Convex JSON) and the cursor of the next one; no total when filtered. */
export interface DocumentPage {
  documents: ConvexDocument[];
  nextCursor: string | null;
  total: number | null;
}

/** Which documents to list: a page, optionally sorted by an index and filtered by fields. */
export interface DocumentQuery extends PageRequest {
  /** An index of the table (`by_user`); default `by_creation_time`. */
  index?: string;
  filters?: FieldFilter[];
}

/** `field op value`, compared in Convex's order of values. */
export interface FieldFilter {
  field: string;
  op: "eq" | "neq" | "lt" | "lte" | "gt" | "gte";
  value: JSONValue;
}

/** The applied schema and every table's indexes. */
export interface SchemaOverview {
  schemaValidation: boolean;
  hasSchema: boolean;
  tables: TableSchema[];
}

/** A document as Convex JSON, system fields included. */
export type ConvexDocument = Record<string, JSONValue> & { _id: string; _creationTime: number };

/** The identity a function runs as: what `ctx.auth.getUserIdentity()` returns. */
export interface ActingIdentity {
  subject: string;
  issuer: string;
  name?: string;
  email?: string;
}

/** The outcome of running a function from the dashboard. */
export type RunOutcome =
  | { status: "success"; value: JSONValue; logLines: string[]; durationMs: number }
  | { status: "error"; errorMessage: string; errorData?: JSONValue; logLines: string[]; durationMs: number };

/** An answer of the engine that is not a success: `{code, message}` with an HTTP status. */
export class AdminApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "AdminApiError";
  }

  /** True when the key was refused (wrong deployment, or the data folder changed). */
  get isKeyRefused(): boolean {
    return this.status === 401 || this.status === 403 || this.code === "BadAdminKey" || this.code === "AdminKeyRequired";
  }
}

/** The admin API, as the dashboard calls it; every request carries the key in `Authorization`. */
export interface AdminClient {
  tables(): Promise<TableSummary[]>;
  documents(table: string, query: DocumentQuery): Promise<DocumentPage>;
  document(id: string): Promise<{ table: string; document: ConvexDocument }>;
  files(page: PageRequest): Promise<FilePage>;
  functions(): Promise<FunctionEntry[]>;
  authIssuers(): Promise<string[]>;
  /** Calls after `seq` (all kept ones for 0), oldest first, and the newest seq. */
  calls(after: number): Promise<{ calls: LoggedCall[]; latestSeq: number }>;
  schema(): Promise<SchemaOverview>;
  insertDocument(table: string, fields: JSONValue): Promise<string>;
  replaceDocument(id: string, fields: JSONValue): Promise<void>;
  deleteDocuments(ids: string[]): Promise<number>;
  cancelJob(id: string): Promise<string>;
  uploadFile(file: Blob): Promise<string>;
  deleteFile(id: string): Promise<void>;
  /**
   * Listens to the engine's event stream (commits, new calls) until the
   * returned function is called; reconnects after a dropped connection.
   */
  events(onEvent: (event: AdminEvent) => void, onState: (connected: boolean) => void): () => void;
  env(): Promise<Record<string, string>>;
  /** Sets a variable, or removes it with null; answers the new set. */
  setEnv(name: string, value: string | null): Promise<Record<string, string>>;
  /** Runs any function (internal too, of the app or of a component) through `/api/function`, optionally as a user. */
  run(path: string, args: JSONValue, actingAs: ActingIdentity | null, componentPath?: string): Promise<RunOutcome>;
}

/**
 * Creates the client. `onKeyRefused` is called when the engine refuses the
 * key, so the page can ask for it again.
 */
export function createAdminClient(adminKey: string, onKeyRefused: () => void): AdminClient {
  async function request<T>(method: "GET" | "POST", path: string, body?: unknown, authorization = `Convex ${adminKey}`): Promise<T> {
    let response: Response;
    const raw = body instanceof Blob;
    try {
      response = await fetch(path, {
        method,
        headers:
          body === undefined
            ? { Authorization: authorization }
            : { Authorization: authorization, "Content-Type": raw ? body.type || "application/octet-stream" : "application/json" },
        body: body === undefined ? undefined : raw ? body : JSON.stringify(body),
        cache: "no-store",
        credentials: "omit",
      });
    } catch {
      throw new AdminApiError(0, "Unreachable", "The engine did not answer. Is it still running?");
    }
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = text === "" ? null : JSON.parse(text);
    } catch {
      // A non-JSON answer (a proxy's error page) is reported by its status below.
    }
    if (!response.ok) {
      const { code, message } = (parsed ?? {}) as { code?: string; message?: string };
      const error = new AdminApiError(response.status, code ?? `Http${response.status}`, message ?? (text || response.statusText));
      if (error.isKeyRefused) onKeyRefused();
      throw error;
    }
    return parsed as T;
  }
  const get = <T>(path: string, params: Record<string, string | number | null> = {}) => {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) if (value !== null) query.set(name, String(value));
    const suffix = query.toString() === "" ? "" : `?${query}`;
    return request<T>("GET", `/api/admin/${path}${suffix}`);
  };
  const pageParams = (page: PageRequest) => ({ cursor: page.cursor, order: page.order, limit: page.limit });
  const post = <T>(path: string, body: unknown) => request<T>("POST", `/api/admin/${path}`, body);

  return {
    tables: () => get<TableSummary[]>("tables"),
    documents: (table, query) =>
      get<DocumentPage>("documents", {
        table,
        ...pageParams(query),
        index: query.index ?? null,
        filter: query.filters !== undefined && query.filters.length > 0 ? JSON.stringify(query.filters) : null,
      }),
    document: (id) => get<{ table: string; document: ConvexDocument }>("document", { id }),
    files: (page) => get<FilePage>("files", pageParams(page)),
    functions: async () => (await get<{ functions: FunctionEntry[] }>("functions")).functions,
    authIssuers: async () => (await get<{ issuers: string[] }>("auth/issuers")).issuers,
    calls: (after) => get<{ calls: LoggedCall[]; latestSeq: number }>("calls", { after }),
    schema: () => get<SchemaOverview>("schema"),
    insertDocument: async (table, fields) => (await post<{ id: string }>("documents/insert", { table, fields })).id,
    replaceDocument: async (id, fields) => void (await post("documents/replace", { id, fields })),
    deleteDocuments: async (ids) => (await post<{ deleted: number }>("documents/delete", { ids })).deleted,
    cancelJob: async (id) => (await post<{ state: string }>("scheduler/cancel", { id })).state,
    uploadFile: async (file) => (await request<{ storageId: string }>("POST", "/api/admin/files/upload", file)).storageId,
    deleteFile: async (id) => void (await post("files/delete", { id })),
    events: (onEvent, onState) => followEvents(adminKey, onEvent, onState, onKeyRefused),
    env: async () => (await get<{ env: Record<string, string> }>("env")).env,
    setEnv: async (name, value) => (await request<{ env: Record<string, string> }>("POST", "/api/admin/env", { name, value })).env,
    async run(path, args, actingAs, componentPath = "") {
      // The acting-as identity rides after the key, base64 JSON, as ConvexHttpClient.setAdminAuth sends it.
      const authorization = actingAs === null ? `Convex ${adminKey}` : `Convex ${adminKey}:${base64Utf8(JSON.stringify(actingAs))}`;
      const started = performance.now();
      const answer = await request<{ status: "success" | "error"; value?: JSONValue; errorMessage?: string; errorData?: JSONValue; logLines?: string[] }>(
        "POST",
        "/api/function",
        { path, args, format: "convex_encoded_json", ...(componentPath === "" ? {} : { componentPath }) },
        authorization,
      );
      const durationMs = Math.round(performance.now() - started);
      const logLines = answer.logLines ?? [];
      if (answer.status === "success") return { status: "success", value: answer.value ?? null, logLines, durationMs };
      const outcome: RunOutcome = { status: "error", errorMessage: answer.errorMessage ?? "The function failed.", logLines, durationMs };
      if (answer.errorData !== undefined) outcome.errorData = answer.errorData;
      return outcome;
    },
  };
}

/**
 * Reads `GET /api/admin/events` (newline-delimited JSON) with fetch, which,
 * unlike EventSource, sends the key in a header rather than in the URL.
 * A dropped stream is reopened after a pause that grows to 10 s.
 */
function followEvents(adminKey: string, onEvent: (event: AdminEvent) => void, onState: (connected: boolean) => void, onKeyRefused: () => void): () => void {
  let stopped = false;
  let controller: AbortController | null = null;
  let retryMs = 500;
  const run = async (): Promise<void> => {
    while (!stopped) {
      controller = new AbortController();
      try {
        const response = await fetch("/api/admin/events", { headers: { Authorization: `Convex ${adminKey}` }, cache: "no-store", credentials: "omit", signal: controller.signal });
        if (response.status === 401 || response.status === 403) {
          onKeyRefused();
          return;
        }
        if (!response.ok || response.body === null) throw new Error(`events: HTTP ${response.status}`);
        onState(true);
        retryMs = 500;
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffered = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffered += value;
          let newline: number;
          while ((newline = buffered.indexOf("\n")) >= 0) {
            const line = buffered.slice(0, newline);
            buffered = buffered.slice(newline + 1);
            if (line.trim() !== "") onEvent(JSON.parse(line) as AdminEvent);
          }
        }
      } catch {
        // Dropped or refused: shown as offline, then retried.
      }
      if (stopped) return;
      onState(false);
      await new Promise((resolve) => setTimeout(resolve, retryMs));
      retryMs = Math.min(retryMs * 2, 10_000);
    }
  };
  void run();
  return () => {
    stopped = true;
    controller?.abort();
  };
}

function base64Utf8(text: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}
