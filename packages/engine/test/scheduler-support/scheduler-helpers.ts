import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** Calls `POST /api/admin/scheduler/drain` and returns its answer. */
export async function drainScheduler(
  engine: { cloudUrl: string; adminKey: string },
  body: Record<string, unknown> = {},
): Promise<{ ran: number; pending: number; clockOffsetMs: number }> {
  const response = await fetch(`${engine.cloudUrl}/api/admin/scheduler/drain`, {
    method: "POST",
    headers: { Authorization: `Convex ${engine.adminKey}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`drain failed with ${response.status}: ${text}`);
  return JSON.parse(text);
}

/** Re-checks `probe` until it returns a value that is not undefined (or fails after `timeoutMs`). */
export async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 15));
  }
}

/**
 * A loopback server whose requests hang until released: a scheduled action
 * that fetches it is "in progress" exactly from the moment a request
 * arrives until the test lets it go.
 */
export interface GateServer {
  url: string;
  /** Requests received so far (each one is an action waiting). */
  readonly arrivals: number;
  /** Resolves when `n` requests have arrived in total. */
  arrived(n: number): Promise<void>;
  /** Resolves when `n` requests in total were dropped by their caller before being answered. */
  abandoned(n: number): Promise<void>;
  /** Answers every waiting request (and, with `forever`, every later one at once). */
  releaseAll(options?: { forever?: boolean }): void;
  close(): Promise<void>;
}

/** Starts a {@link GateServer} on 127.0.0.1. */
export async function startGateServer(): Promise<GateServer> {
  const waiting: ServerResponse[] = [];
  const watchers: { n: number; resolve: () => void }[] = [];
  const dropWatchers: { n: number; resolve: () => void }[] = [];
  let arrivals = 0;
  let drops = 0;
  let open = false;
  const server = createServer((_req: IncomingMessage, res: ServerResponse) => {
    arrivals += 1;
    for (const w of watchers.filter((w) => arrivals >= w.n)) w.resolve();
    res.on("close", () => {
      if (res.writableEnded) return;
      drops += 1;
      for (const w of dropWatchers.filter((w) => drops >= w.n)) w.resolve();
    });
    if (open) res.end("ok");
    else waiting.push(res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/gate`;
  return {
    url,
    get arrivals() {
      return arrivals;
    },
    arrived: (n) => (arrivals >= n ? Promise.resolve() : new Promise((resolve) => watchers.push({ n, resolve }))),
    abandoned: (n) => (drops >= n ? Promise.resolve() : new Promise((resolve) => dropWatchers.push({ n, resolve }))),
    releaseAll(options = {}) {
      open = options.forever === true;
      for (const res of waiting.splice(0)) res.end("ok");
    },
    close: () =>
      new Promise((resolve) => {
        for (const res of waiting.splice(0)) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
