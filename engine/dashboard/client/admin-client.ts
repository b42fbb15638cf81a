import type { JSONValue } from "convex/values";
import type { FileEntry, FilePage } from "../../http/admin-files.js";
import type { FunctionEntry } from "../../http/admin-functions.js";
import type { PageRequest } from "../../http/document-page.js";
import type { CallRecord } from "../../runtime/runtime.js";

export type { CallRecord, FileEntry, FunctionEntry };

/** A table and how many documents it holds. */
export interface TableSummary {
  name: string;
  number: number;
  documents: number;
}

/** A page of documents (Convex JSON) and the cursor of the next one. */
export interface DocumentPage {
  documents: ConvexDocument[];
  nextCursor: string | null;
  total: number;
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
  documents(table: string, page: PageRequest): Promise<DocumentPage>;
  document(id: string): Promise<{ table: string; document: ConvexDocument }>;
  files(page: PageRequest): Promise<FilePage>;
  functions(): Promise<FunctionEntry[]>;
  authIssuers(): Promise<string[]>;
  calls(): Promise<CallRecord[]>;
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
    try {
      response = await fetch(path, {
        method,
        headers: body === undefined ? { Authorization: authorization } : { Authorization: authorization, "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
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

  return {
    tables: () => get<TableSummary[]>("tables"),
    documents: (table, page) => get<DocumentPage>("documents", { table, ...pageParams(page) }),
    document: (id) => get<{ table: string; document: ConvexDocument }>("document", { id }),
    files: (page) => get<FilePage>("files", pageParams(page)),
    functions: async () => (await get<{ functions: FunctionEntry[] }>("functions")).functions,
    authIssuers: async () => (await get<{ issuers: string[] }>("auth/issuers")).issuers,
    calls: async () => (await get<{ calls: CallRecord[] }>("calls")).calls,
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

function base64Utf8(text: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}
