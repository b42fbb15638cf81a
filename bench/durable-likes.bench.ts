/**
 * Durable writes benchmark (issue 11 item 4): `posts.toggleLike` over WebSocket, each
 * mutation acknowledged only once it is durable (synchronous=FULL).
 *
 * Data: 1,000 users, 10,000 posts, 100,000 likes, 10,000 bookmarks (`fixtures/feed-data`,
 * seed 42), written straight into a fresh store. Clients: 1, 16, 64 and 256 official
 * `ConvexClient`s in a separate process, each a different signed-in user with one mutation
 * in flight, liking or unliking random posts (`durable-likes-clients.ts`); they connect,
 * sign in and run one mutation each before the measured window starts. The engine runs
 * in a process of its own (`durable-likes-host.ts`), whose CPU time (all threads) and
 * bytes written are measured over each window, with the main (socket) thread's own CPU
 * time and, when the engine reports them, the writer's batches: how many, their sizes,
 * how long the writer was busy with them, its WAL syncs, and how long mutations queued
 * on the main thread before their batch was sent.
 *
 * Before/after in one run: with `DURABLE_LIKES_BASELINE=<checkout>` (e.g. a worktree of
 * main) the same host is also built against that checkout's engine, and the two engines
 * are measured alternately at each client count.
 *
 * Baseline: better-sqlite3 alone doing the same rows (`fixtures/raw-likes.ts`) on the
 * same data sizes, with the app's indexes and with a minimal schema, committing 1, 10 or
 * 100 toggles per transaction. Ratios: after/before, and engine/raw.
 *
 * Knobs: DURABLE_LIKES_SECONDS (5), DURABLE_LIKES_CLIENTS ("1,16,64,256"), DURABLE_LIKES_ROUNDS (1;
 * the median round is shown), DURABLE_LIKES_PROFILE (a folder: CPU profiles of the engine
 * processes). Run: `npm run bench -- durable-likes`.
 */
import type { Plugin } from "esbuild";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { startTestIssuer } from "../packages/engine/test/support/test-issuer";
import { randomTools, seededRandom } from "../packages/engine/test/support/seeded-random";
import { LIKES, POSTS, USERS } from "./fixtures/feed-data";
import { startClientProcess, type ClientProcess } from "./support/client-process";
import type { WriterStats } from "./durable-likes-host";
import { processWrites } from "./fixtures/process-io";
import { createRawLikes, type RawSchema } from "./fixtures/raw-likes";

const SECONDS = Number(process.env.DURABLE_LIKES_SECONDS ?? 5);
const CLIENTS = (process.env.DURABLE_LIKES_CLIENTS ?? "1,16,64,256").split(",").map(Number);
const ROUNDS = Number(process.env.DURABLE_LIKES_ROUNDS ?? 1);
const BASELINE = process.env.DURABLE_LIKES_BASELINE;
/** A folder for V8 CPU profiles of the engine processes (every thread), when set. */
const PROFILE = process.env.DURABLE_LIKES_PROFILE;
const GROUP_COMMITS = [1, 10, 100];
const RAW_SECONDS = 3;
/** `npm run bench` runs from the repository root. */
const root = process.cwd();

interface EngineRow {
  engine: string;
  clients: number;
  rate: number;
  p50: number;
  p99: number;
  engineCpuMs: number;
  clientCpuMs: number;
  diskKiB: number;
  wcharKiB: number;
  mainCpuMs: number;
  load: number;
  writer: WriterWindow | null;
}

/** The writer's counters over one window (`durable-likes-host.ts`). */
type WriterWindow = WriterStats & { wallMs: number };

interface RawRow {
  schema: RawSchema;
  groupCommit: number;
  rate: number;
  cpuMs: number;
  diskKiB: number;
}

async function main(): Promise<void> {
  const engines: { name: string; root: string }[] = [];
  if (BASELINE !== undefined) engines.push({ name: `before (${path.basename(BASELINE)})`, root: path.resolve(BASELINE) });
  engines.push({ name: "after (this checkout)", root });
  console.log(`data: ${USERS} users, ${POSTS} posts, ${LIKES} likes; ${SECONDS} s per point, ${ROUNDS} round(s); engines: ${engines.map((e) => e.name).join(", ")}`);

  const rawRows = runRaw();
  const issuer = await startTestIssuer();
  const clientsFile = await bundle(path.join(root, "bench", "durable-likes-clients.ts"), root);
  const hosts: { name: string; child: ClientProcess; started: Record<string, unknown> }[] = [];
  try {
    for (const e of engines) {
      const hostFile = await bundle(path.join(root, "bench", "durable-likes-host.ts"), e.root);
      const profile = PROFILE === undefined ? [] : ["--cpu-prof", "--cpu-prof-dir", path.resolve(PROFILE, path.basename(e.root))];
      const child = await startClientProcess(hostFile, profile, { cwd: e.root, ready: "ready" });
      console.log(`${e.name}: seeding…`);
      const started = await child.request({ kind: "start", appDir: path.join(e.root, "convex"), issuer: issuer.issuer }, "started");
      console.log(`${e.name}: database ${(Number(started.dbBytes) / 2 ** 20).toFixed(1)} MiB after seeding`);
      hosts.push({ name: e.name, child, started });
    }
    const rounds: EngineRow[][] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const rows: EngineRow[] = [];
      for (const clients of CLIENTS) {
        for (const host of hosts) {
          const clerkIds = host.started.clerkIds as string[];
          const tokens = await Promise.all(clerkIds.slice(0, clients).map((sub) => issuer.mint({ sub })));
          const clientChild = await startClientProcess(clientsFile, [], { cwd: root, ready: "ready" });
          try {
            await clientChild.request({ kind: "connect", cloudUrl: host.started.cloudUrl, tokens, postIds: host.started.postIds, seed: 1000 + clients }, "connected");
            await host.child.request({ kind: "mark" }, "marked");
            const ran = await clientChild.request({ kind: "run", seconds: SECONDS }, "ran");
            const used = await host.child.request({ kind: "report" }, "reported");
            const likes = Number(ran.likes);
            rows.push({
              engine: host.name,
              clients,
              rate: (likes / Number(ran.wallMs)) * 1000,
              p50: Number(ran.p50),
              p99: Number(ran.p99),
              engineCpuMs: Number(used.cpuMs) / likes,
              clientCpuMs: Number(ran.cpuMs) / likes,
              diskKiB: Number(used.diskBytes) / 1024 / likes,
              wcharKiB: Number(used.wcharBytes) / 1024 / likes,
              mainCpuMs: Number(used.mainCpuMs) / likes,
              load: loadavg()[0]!,
              writer: used.writer === null || used.writer === undefined ? null : { ...(used.writer as Omit<WriterWindow, "wallMs">), wallMs: Number(used.wallMs) },
            });
            console.log(`  ${host.name}, ${clients} clients: ${Math.round(rows[rows.length - 1]!.rate)} likes/s`);
          } finally {
            await clientChild.stop();
          }
        }
      }
      rounds.push(rows);
    }
    report(median(rounds), rawRows);
  } finally {
    for (const host of hosts) await host.child.stop();
    await issuer.close();
  }
}

/** Runs the raw better-sqlite3 baselines in this process, before any engine starts. */
function runRaw(): RawRow[] {
  const rows: RawRow[] = [];
  for (const schema of ["app", "minimal"] as const) {
    const dir = mkdtempSync(path.join(tmpdir(), "bench-raw-likes-"));
    const raw = createRawLikes(path.join(dir, "raw.sqlite3"), schema, { users: USERS, posts: POSTS, likes: LIKES }, randomTools(seededRandom(42)));
    try {
      raw.run(0.5, 10); // warm the page cache and statements
      for (const groupCommit of GROUP_COMMITS) {
        raw.checkpoint();
        const cpu = process.cpuUsage();
        const io = processWrites();
        const t0 = performance.now();
        const done = raw.run(RAW_SECONDS, groupCommit);
        const wallMs = performance.now() - t0;
        const used = process.cpuUsage(cpu);
        rows.push({
          schema,
          groupCommit,
          rate: (done / wallMs) * 1000,
          cpuMs: (used.user + used.system) / 1000 / done,
          diskKiB: (processWrites().disk - io.disk) / 1024 / done,
        });
      }
    } finally {
      raw.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return rows;
}

function report(rows: EngineRow[], rawRows: RawRow[]): void {
  console.log(`\nraw better-sqlite3, same rows (${USERS} users, ${POSTS} posts, ${LIKES} likes; WAL, synchronous=FULL, one thread)`);
  console.table(
    rawRows.map((r) => ({
      schema: r.schema,
      "toggles/commit": r.groupCommit,
      "toggles/s": Math.round(r.rate),
      "CPU ms/toggle": r.cpuMs.toFixed(3),
      "disk KiB/toggle": r.diskKiB.toFixed(1),
    })),
  );
  const before = (clients: number) => rows.find((r) => r.clients === clients && r.engine.startsWith("before"));
  const raw = (schema: RawSchema, groupCommit: number) => rawRows.find((r) => r.schema === schema && r.groupCommit === groupCommit)!.rate;
  console.log(`\ndurable toggleLike over WebSocket (official ConvexClient, separate process; engine in its own process)`);
  console.table(
    rows.map((r) => ({
      engine: r.engine,
      clients: r.clients,
      "likes/s": Math.round(r.rate),
      "p50 ms": r.p50.toFixed(1),
      "p99 ms": r.p99.toFixed(1),
      "engine CPU ms/like": r.engineCpuMs.toFixed(3),
      "main thread CPU ms/like": r.mainCpuMs.toFixed(3),
      "client CPU ms/like": r.clientCpuMs.toFixed(3),
      "disk KiB/like": r.diskKiB.toFixed(1),
      "written KiB/like": r.wcharKiB.toFixed(1),
      "after/before": r.engine.startsWith("after") && before(r.clients) ? `${(r.rate / before(r.clients)!.rate).toFixed(2)}×` : "",
      "load (1 min)": r.load.toFixed(1),
    })),
  );
  console.log("\nthe writer's batches over each window (engines that report them)");
  console.table(
    rows
      .filter((r) => r.writer !== null)
      .map(({ engine, clients, writer: w, engineCpuMs, mainCpuMs }) => ({
        engine,
        clients,
        batches: w!.batches,
        "mutations/batch": (w!.mutations / Math.max(1, w!.batches)).toFixed(1),
        "batch sizes (≤n: count)": Object.entries(w!.sizes)
          .filter(([, n]) => n > 0)
          .map(([size, n]) => `≤${size}: ${n}`)
          .join(", "),
        "writer busy": `${((w!.executingMs / w!.wallMs) * 100).toFixed(0)}%`,
        "ms/batch": (w!.executingMs / Math.max(1, w!.batches)).toFixed(1),
        "writer CPU ms/mutation": w!.writerCpuMs === null ? "" : (w!.writerCpuMs / Math.max(1, w!.mutations)).toFixed(3),
        // The writer's busy time split: on a core, ready but waiting for one, and the rest (blocked: fsync, locks, messages).
        "writer on CPU / waiting for a core / blocked": w!.writerCpuMs === null ? "" : busySplit(w!),
        // Engine CPU on neither the main nor the writer thread: WAL checkpointer, GC helpers, query workers, libuv's fsyncs.
        "other threads CPU ms/like": w!.writerCpuMs === null ? "" : (engineCpuMs - mainCpuMs - w!.writerCpuMs / Math.max(1, w!.mutations)).toFixed(3),
        "WAL syncs": w!.syncs,
        "ms/sync": (w!.syncMs / Math.max(1, w!.syncs)).toFixed(2),
        "queued ms/mutation": (w!.waitedMs / Math.max(1, w!.dispatched)).toFixed(1),
      })),
  );
  console.log("\nengine likes/s as a share of raw better-sqlite3 toggles/s");
  console.table(
    rows.map((r) => ({
      engine: r.engine,
      clients: r.clients,
      ...Object.fromEntries(
        (["app", "minimal"] as const).flatMap((schema) =>
          GROUP_COMMITS.map((g) => [`${schema} ×${g}`, `${((r.rate / raw(schema, g)) * 100).toFixed(0)}%`]),
        ),
      ),
    })),
  );
}

/** The writer's busy time as shares on a core / waiting for a core / blocked (older engines: CPU share only). */
function busySplit(w: WriterWindow): string {
  const pct = (ms: number) => `${Math.round((ms / Math.max(1, w.executingMs)) * 100)}%`;
  if (w.writerRunDelayMs == null) return pct(w.writerCpuMs!);
  return [pct(w.writerCpuMs!), pct(w.writerRunDelayMs), pct(Math.max(0, w.executingMs - w.writerCpuMs! - w.writerRunDelayMs))].join(" / ");
}

/** Per engine and client count, the round with the median rate. */
function median(rounds: EngineRow[][]): EngineRow[] {
  return rounds[0]!.map((row, i) => {
    const same = rounds.map((r) => r[i]!).sort((a, b) => a.rate - b.rate);
    return same[Math.floor(same.length / 2)] ?? row;
  });
}

/**
 * Bundles a benchmark entry of this checkout into `target`'s `dist/bench/`, with the
 * entry's imports of `engine/`, `test/` and `convex/` taken from `target`: the same
 * harness then drives another checkout's engine, whose npm packages and worker builds
 * resolve from that checkout as they would there.
 */
async function bundle(entry: string, target: string): Promise<string> {
  const outfile = path.join(target, "dist", "bench", path.basename(entry).replace(/\.ts$/, ".mjs"));
  const redirect: Plugin = {
    name: "other-checkout",
    setup(b) {
      b.onResolve({ filter: /^\.\.?\// }, async (args) => {
        const wanted = path.resolve(args.resolveDir, args.path);
        const relative = path.relative(root, wanted);
        if (target === root || relative.startsWith("..") || !/^(packages|engine|test|convex)\//.test(relative)) return undefined;
        return b.resolve(`./${relative}`, { resolveDir: target, kind: args.kind });
      });
    },
  };
  // The repository's one esbuild configuration (an untyped .mjs, hence the typed import).
  const { buildTs } = (await import(pathToFileURL(path.join(root, "packages", "engine", "scripts", "build-ts.mjs")).href)) as {
    buildTs: (entry: string, outfile: string, plugins: Plugin[]) => Promise<void>;
  };
  await buildTs(entry, outfile, [redirect]);
  return outfile;
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
