import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";

/**
 * Client processes for the sync benchmarks: the clients (official
 * `ConvexClient`s, raw sockets, attackers) run in processes of their own so
 * their work never shares an event loop with the engine they measure. The
 * benchmark drives each one over IPC: it sends a command and waits for a
 * reply of a named kind.
 */

/** Epoch milliseconds with sub-millisecond resolution, comparable across processes on one machine. */
export const epochNow = (): number => performance.timeOrigin + performance.now();

/** `npm run bench` runs from the repository root. */
export const root = process.cwd();

/** A running client process. */
export interface ClientProcess {
  /** Sends `message` and resolves with the next message of kind `reply`. */
  request(message: Record<string, unknown>, reply: string): Promise<Record<string, unknown>>;
  /** The next message of kind `reply` (already received or still to come). */
  next(reply: string): Promise<Record<string, unknown>>;
  /** Asks the process to stop and waits for it to exit. */
  stop(): Promise<void>;
}

/** Bundles a client entry point (`bench/<name>.ts`) with the repository's one esbuild setup; returns the file to fork. */
export async function buildClientProcess(name: string): Promise<string> {
  // Loaded at run time from the repository: a plain .mjs without type declarations.
  const { buildTs } = (await import(pathToFileURL(path.join(root, "packages", "engine", "scripts", "build-ts.mjs")).href)) as {
    buildTs(entry: string, outfile: string): Promise<void>;
  };
  const out = path.join(root, "dist", "bench", `${name}.mjs`);
  await buildTs(path.join(root, "bench", `${name}.ts`), out);
  return out;
}

/**
 * Forks a built client file and waits for its first message of kind `ready` (`started` unless
 * told). A process that exits while a reply is awaited fails that wait instead of hanging the
 * benchmark.
 */
export async function startClientProcess(
  file: string,
  execArgv: string[] = [],
  { cwd = root, ready = "started" }: { cwd?: string; ready?: string } = {},
): Promise<ClientProcess> {
  const child: ChildProcess = fork(file, [], { cwd, stdio: ["ignore", "inherit", "inherit", "ipc"], execArgv });
  const inbox: Record<string, unknown>[] = [];
  let waiters: (() => void)[] = [];
  child.on("message", (m) => {
    inbox.push(m as Record<string, unknown>);
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const next = async (kind: string) => {
    for (;;) {
      const index = inbox.findIndex((m) => m.kind === kind);
      if (index !== -1) return inbox.splice(index, 1)[0]!;
      await Promise.race([
        new Promise<void>((resolve) => waiters.push(resolve)),
        exited.then(() => {
          throw new Error(`${path.basename(file)} exited while its parent waited for "${kind}"`);
        }),
      ]);
    }
  };
  await next(ready);
  return {
    next,
    async request(message, reply) {
      child.send(message);
      return next(reply);
    },
    async stop() {
      if (child.exitCode === null) child.send({ kind: "stop" });
      await exited;
    },
  };
}

/**
 * In a client process: exits when the benchmark's process is gone (its IPC channel closes),
 * so a benchmark that fails or is killed leaves no clients running on the machine.
 */
export function exitWithBench(): void {
  process.once("disconnect", () => process.exit(1));
}

/** In a client process: sends a message to the benchmark. */
export function replyToBench(message: Record<string, unknown>): void {
  process.send!(message);
}

/** In a client process: closes its clients and sockets, then exits (the benchmark's `stop`). */
export function closeAndExit(clients: readonly { close(): Promise<void> }[], sockets: Iterable<{ terminate(): void }>): void {
  void Promise.all(clients.map((c) => c.close())).then(() => {
    for (const ws of sockets) ws.terminate();
    process.exit(0);
  });
}

/** The value below which a fraction `q` of `values` lies (nearest rank); NaN for none. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** p50, p99 and max of `values`. */
export function percentiles(values: readonly number[]): { p50: number; p99: number; max: number } {
  let max = -Infinity;
  for (const v of values) if (v > max) max = v;
  return { p50: percentile(values, 0.5), p99: percentile(values, 0.99), max };
}
