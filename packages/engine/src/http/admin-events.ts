import type { IncomingMessage, ServerResponse } from "node:http";
import { EngineError } from "../errors.js";
import type { CommitSummary } from "../runtime/runtime-database.js";
import type { CallLog } from "./call-log.js";

/**
 * One line of the dashboard's event stream (`GET /api/admin/events`,
 * newline-delimited JSON): which tables a commit wrote, that new calls are in
 * the log, or a keep-alive.
 */
export type AdminEvent =
  | { type: "hello"; ts: string; callSeq: number }
  | { type: "changes"; ts: string; tables: string[] }
  | { type: "calls"; callSeq: number }
  | { type: "ping" };

/** The live side of the admin API: what the dashboard hears instead of polling. */
export interface AdminEvents {
  /** After every commit (the engine's commit hook, main thread). */
  onCommit(commit: CommitSummary): void;
  /** New code or env vars are active (a push may have changed the schema): every view reloads (`tables: ["*"]`). */
  onActivate(): void;
  /** Serves one event stream until the client goes away; the caller checked the admin key. */
  stream(req: IncomingMessage, res: ServerResponse): void;
  close(): void;
}

/** At most one event line per client this often: a flood of commits becomes a few "these tables changed" lines. */
const FLUSH_MS = 200;
const PING_MS = 20_000;
/** Open streams at once; each dashboard tab holds one. */
const MAX_STREAMS = 32;

/**
 * Fans commits and new calls out to the open dashboards, coalesced per
 * client: a client that reads slowly (its socket buffer full) gets one
 * summary when it drains, never a queue of every commit.
 */
export function createAdminEvents(deps: { calls: CallLog; latestTs: () => bigint }): AdminEvents {
  const clients = new Set<StreamClient>();
  const unsubscribe = deps.calls.subscribe(() => {
    for (const client of clients) client.callsChanged();
  });

  class StreamClient {
    private tables = new Set<string>();
    private calls = false;
    private timer: NodeJS.Timeout | null = null;
    private blocked = false;
    private readonly ping: NodeJS.Timeout;

    constructor(private readonly res: ServerResponse) {
      this.ping = setInterval(() => this.write({ type: "ping" }), PING_MS);
      res.on("drain", () => {
        this.blocked = false;
        this.schedule();
      });
    }

    tablesChanged(tables: Iterable<string>): void {
      for (const t of tables) this.tables.add(t);
      this.schedule();
    }

    callsChanged(): void {
      this.calls = true;
      this.schedule();
    }

    private schedule(): void {
      if (this.timer !== null || this.blocked) return;
      this.timer = setTimeout(() => this.flush(), FLUSH_MS);
    }

    private flush(): void {
      this.timer = null;
      if (this.tables.size > 0) {
        const tables = [...this.tables].sort();
        this.tables = new Set();
        this.write({ type: "changes", ts: String(deps.latestTs()), tables });
      }
      if (this.calls) {
        this.calls = false;
        this.write({ type: "calls", callSeq: deps.calls.latestSeq });
      }
    }

    write(event: AdminEvent): void {
      if (!this.res.write(`${JSON.stringify(event)}\n`)) this.blocked = true;
    }

    close(): void {
      clearInterval(this.ping);
      if (this.timer !== null) clearTimeout(this.timer);
      clients.delete(this);
    }
  }

  return {
    onCommit(commit) {
      if (clients.size === 0 || commit.writes.length === 0) return;
      const tables = new Set(commit.writes.map((w) => w.table));
      for (const client of clients) client.tablesChanged(tables);
    },
    onActivate() {
      for (const client of clients) client.tablesChanged(["*"]);
    },
    stream(req, res) {
      if (clients.size >= MAX_STREAMS) {
        throw new EngineError("TooManyStreams", `At most ${MAX_STREAMS} dashboards may listen at once; close a tab.`, "transient");
      }
      res.writeHead(200, { "Content-Type": "application/x-ndjson; charset=utf-8", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff" });
      const client = new StreamClient(res);
      clients.add(client);
      client.write({ type: "hello", ts: String(deps.latestTs()), callSeq: deps.calls.latestSeq });
      const end = () => client.close();
      req.on("close", end);
      res.on("close", end);
    },
    close() {
      unsubscribe();
      for (const client of [...clients]) client.close();
    },
  };
}
