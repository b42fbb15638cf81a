/**
 * The engine side of `durable-likes.bench.ts`, one process per engine build: it starts an
 * engine on a fresh data folder (synchronous=FULL, the default), seeds the feed data set
 * straight into its store and serves it. Driven over IPC by the benchmark:
 *
 * - `start`: create and seed; answers the URL, the users' Clerk ids and the post ids;
 * - `mark` / `report`: this process's CPU time (every thread: the socket thread, the
 *   writer, query workers, the WAL checkpointer), the main (socket) thread's own CPU time,
 *   bytes written (`/proc/self/io`) and the writer's batch counters (when the engine has
 *   `runtime.mutations.writerStats`) between the two;
 * - `stop`: close the engine, remove the folder, exit.
 *
 * The benchmark bundles this file once per engine checkout (the "before" build maps
 * `engine/` and `test/` imports to another worktree), so nothing here may depend on
 * engine internals beyond `createEngine`, `engine.store`, `runtime.transact` and the
 * optional `runtime.mutations.writerStats`.
 */
import Database from "better-sqlite3";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createEngine } from "../packages/engine/src/engine";
import { seededRandom, randomTools } from "../packages/engine/test/support/seeded-random";
import { seed } from "./fixtures/feed-data";
import { processWrites } from "./fixtures/process-io";
import { mainThreadCpuMs } from "./support/main-thread-cpu";
import { exitWithBench } from "./support/client-process";
import type { QueueStats } from "../packages/engine/src/runtime/mutation-batch";
import type { WriterStats as WriterClientStats } from "../packages/engine/src/runtime/writer/writer-types";

type Command =
  | { kind: "start"; appDir: string; issuer: string }
  | { kind: "mark" }
  | { kind: "report" }
  | { kind: "stop" };

const quiet = { info() {}, warn() {}, error: (m: string, e?: unknown) => console.error(m, e) };
const reply = (message: Record<string, unknown>) => process.send!(message);

let engine: Awaited<ReturnType<typeof createEngine>> | null = null;
let dataDir = "";
/**
 * The writer's counters, as engines that have them report them (older builds do not; a
 * type-only import, erased when this file is bundled against another checkout).
 */
export type WriterStats = WriterClientStats & QueueStats;

const writerStats = (): WriterStats | null =>
  (engine?.app.runtime as { mutations?: { writerStats?: () => WriterStats | null } } | undefined)?.mutations?.writerStats?.() ?? null;

function difference(after: WriterStats | null, before: WriterStats | null): WriterStats | null {
  if (after === null || before === null) return null;
  const sizes: Record<number, number> = {};
  for (const [size, n] of Object.entries(after.sizes)) sizes[Number(size)] = n - (before.sizes[Number(size)] ?? 0);
  const minus = (k: Exclude<keyof WriterStats, "sizes" | "writerCpuMs" | "writerRunDelayMs">) => after[k] - before[k];
  // Older engines report neither counter (undefined), some OSes neither (null).
  const thread = (k: "writerCpuMs" | "writerRunDelayMs") => (after[k] == null || before[k] == null ? null : after[k] - before[k]);
  return {
    batches: minus("batches"),
    mutations: minus("mutations"),
    sizes,
    executingMs: minus("executingMs"),
    writerCpuMs: thread("writerCpuMs"),
    writerRunDelayMs: thread("writerRunDelayMs"),
    syncs: minus("syncs"),
    syncMs: minus("syncMs"),
    dispatched: minus("dispatched"),
    waitedMs: minus("waitedMs"),
  };
}

let marked = { cpu: process.cpuUsage(), io: processWrites(), at: performance.now(), mainMs: mainThreadCpuMs(), writer: null as WriterStats | null };

function fileBytes(name: string): number {
  try {
    return statSync(path.join(dataDir, name)).size;
  } catch {
    return 0;
  }
}

async function start(command: Extract<Command, { kind: "start" }>): Promise<void> {
  dataDir = mkdtempSync(path.join(tmpdir(), "bench-durable-likes-"));
  engine = await createEngine({
    appDir: command.appDir,
    dataDir,
    port: 0,
    sitePort: 0,
    // Each client likes as fast as it can from one account, far past the app's
    // per-user like limit; the benchmark measures durable writes, not that limit.
    env: { CLERK_JWT_ISSUER_DOMAIN: command.issuer, RATE_LIMIT_SCALE: "1000000" },
    logger: quiet,
  });
  const seeded = await seed(engine, randomTools(seededRandom(42)));
  // The seed left ~75 MiB in the WAL: move it into the file now, so the first measured window
  // does not pay for the seed's checkpoint (the raw baseline checkpoints before each run too).
  const checkpointer = new Database(path.join(dataDir, "db.sqlite3"));
  try {
    checkpointer.pragma("wal_checkpoint(TRUNCATE)");
  } finally {
    checkpointer.close();
  }
  reply({ kind: "started", cloudUrl: engine.cloudUrl, clerkIds: seeded.clerkIds, postIds: seeded.postIds, dbBytes: fileBytes("db.sqlite3") });
}

exitWithBench();
process.on("message", (command: Command) => {
  switch (command.kind) {
    case "start":
      start(command).catch((e: unknown) => {
        console.error(e);
        process.exit(1);
      });
      return;
    case "mark":
      marked = { cpu: process.cpuUsage(), io: processWrites(), at: performance.now(), mainMs: mainThreadCpuMs(), writer: writerStats() };
      reply({ kind: "marked" });
      return;
    case "report": {
      const cpu = process.cpuUsage(marked.cpu);
      const io = processWrites();
      reply({
        kind: "reported",
        cpuMs: (cpu.user + cpu.system) / 1000,
        mainCpuMs: mainThreadCpuMs() - marked.mainMs,
        wallMs: performance.now() - marked.at,
        writer: difference(writerStats(), marked.writer),
        wcharBytes: io.wchar - marked.io.wchar,
        diskBytes: io.disk - marked.io.disk,
        dbBytes: fileBytes("db.sqlite3"),
      });
      return;
    }
    case "stop":
      void (async () => {
        await engine?.close();
        rmSync(dataDir, { recursive: true, force: true });
        process.exit(0);
      })();
      return;
  }
});
reply({ kind: "ready" });
