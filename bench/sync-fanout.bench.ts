/**
 * Real-time fan-out benchmark (issues #4 and #11).
 *
 * 1, 100, 1,000 and 5,000 official `ConvexClient`s in a separate process, each
 * subscribed to `posts.getFeedPosts` (20 posts). In the "distinct" runs every
 * client is signed in as a different user who has liked one of the posts, so
 * every subscription is its own (isLiked differs per user) and the engine
 * re-executes the feed once per client; in the "same user" runs all clients
 * share one identity, so it executes once and fans out. A like is committed
 * and the time from the commit (the engine's onCommit) until each client's
 * callback sees the new count is recorded: p50, p99, max over all clients and
 * trials, after one unmeasured warm-up like per row (its figures are printed
 * apart; SYNC_BENCH_WARM_UP sets how many). Baseline in the same run: a plain
 * `ws` server broadcasting the same Transition text to the same number of
 * sockets in a client process of its own (each parsed with JSON.parse), one
 * broadcast right after each like so both sides see the machine at the same
 * speed, and the ratio. The engine's CPU time per like
 * (this process: the engine and the benchmark's own bookkeeping) is printed
 * beside the wall times, split into the main thread, the query workers and the
 * other threads (V8's GC helpers, the writer; Linux), and the client process's own CPU per like: the
 * official clients share the machine's cores with the engine, so their
 * work is a floor under the ratio (printed). Also: engine memory per
 * session with 1,000 and 5,000 subscribed official clients (and the client
 * process's RSS) and with 10,000 idle sync sessions.
 * Fixed sizes and seed; prints tables. Run: `npm run bench sync-fanout`.
 * `SYNC_BENCH_PROFILE=<folder>`: a CPU profile of the engine's main thread over each
 * like (not the seeding, the clients' start-up or the raw broadcasts), one `.cpuprofile`
 * per like (`main-<clients>-<mode>-like<n>`); with
 * `SYNC_BENCH_PROFILE_ALLOCATIONS=1`, a sampling heap profile of the same stretch instead
 * (`.heapprofile`: what the main thread allocates per like, which a busy machine does not
 * change, where its CPU time varies by a fifth from run to run).
 */
import { ConvexHttpClient } from "convex/browser";
import { performance, type EventLoopUtilization } from "node:perf_hooks";
import { WebSocketServer, type WebSocket } from "ws";
import { api } from "../convex/_generated/api";
import type { Id } from "../convex/_generated/dataModel";
import type { SyncStats } from "../packages/engine/src/sync/sync-server";
import { threadCpuMs, type ThreadCpu } from "./support/main-thread-cpu";
import { buildClientProcess, epochNow, percentile, percentiles, startClientProcess as startChild } from "./support/client-process";
import { onEveryCommit, startInstagramBench } from "./support/instagram-engine";
import { WindowProfile } from "./support/window-profile";

const SIZES = (process.env.SYNC_BENCH_SIZES ?? "1,100,1000,5000").split(",").map(Number);
/** Above this many clients only the distinct-users row runs (the target row; shared subscriptions are cheap). */
const SAME_USER_UP_TO = 1_000;
const FEED_POSTS = 20;
const TRIALS = 6;
/** Likes (and raw broadcasts) before the measured ones in each row: see the trial loop. */
const WARM_UP_LIKES = Number(process.env.SYNC_BENCH_WARM_UP ?? 1);
const IDLE_SESSIONS = 10_000;
const PROFILE = process.env.SYNC_BENCH_PROFILE;


/** The sync layer's work for one like: runs, their summed wall time, and Transition building and sending (ms). */
interface LikeCost {
  /** CPU time of this process (the engine) from the like until the sync layer was idle again. */
  cpuMs: number;
  /** Time the engine's main thread (sockets, rounds, dispatch) was busy meanwhile (event loop utilization). */
  mainMs: number;
  /** CPU time of the engine's main thread alone (Linux: /proc; NaN elsewhere). */
  mainCpuMs: number;
  /** CPU time of the query workers together, and of every other thread (GC helpers, the writer, …). */
  workersCpuMs: number;
  otherCpuMs: number;
  runs: number;
  runMs: number;
  emitMs: number;
  transitions: number;
}

function likeCost(before: SyncStats, after: SyncStats, cpu: NodeJS.CpuUsage, elu: EventLoopUtilization, threadsBefore: ThreadCpu): LikeCost {
  const threads = threadCpuMs();
  return {
    cpuMs: (cpu.user + cpu.system) / 1000,
    mainMs: elu.active,
    mainCpuMs: threads.main - threadsBefore.main,
    workersCpuMs: threads.queryWorkers - threadsBefore.queryWorkers,
    otherCpuMs: threads.other - threadsBefore.other,
    runs: after.queryRuns - before.queryRuns,
    runMs: after.runMs - before.runMs,
    emitMs: after.emitMs - before.emitMs,
    transitions: after.transitionsSent - before.transitionsSent,
  };
}

interface Row {
  clients: number;
  mode: string;
  p50: number;
  p99: number;
  max: number;
  rawP50: number;
  rawP99: number;
  /** CPU the client process spent per like (parsing, applying, callbacks), median ms. */
  clientCpu: number;
  rawClientCpu: number;
  /** The plain server's send loop per broadcast, median ms. */
  rawSendMs: number;
  /** What the engine spent on each like. */
  costs: LikeCost[];
  transitionBytes: number;
}

async function main(): Promise<void> {
  const childFile = await buildClientProcess("sync-fanout-clients");
  let captureNext = false;
  let payload = "";
  const bench = await startInstagramBench({
    // Decodes only the frame it captures: decoding every frame would add a string per
    // subscriber to the main thread's work per like that this benchmark measures.
    beforeSend(frame) {
      if (!captureNext) return;
      const text = String(frame);
      if (text.startsWith('{"type":"Transition"')) {
        payload = text;
        captureNext = false;
      }
    },
  });
  const { engine, app } = bench;
  // Commit instants, in the same clock as the client process's receive times.
  let commitAt = 0;
  onEveryCommit(engine, (_commit, at) => (commitAt = at));

  console.log("seeding: users, posts, one like per user …");
  const users: string[] = [];
  for (let i = 0; i < SIZES[SIZES.length - 1]!; i += 50) {
    users.push(...(await Promise.all(Array.from({ length: 50 }, (_, k) => app.createUser(`user${String(i + k).padStart(4, "0")}`)))));
  }
  const liker = await app.createUser("liker");
  const posts: string[] = [];
  for (let i = 0; i < FEED_POSTS; i++) posts.push(await app.seedPost(users[i % users.length]!, `post ${i}`));
  const tokens = await Promise.all(users.map((_, i) => app.token(`user${String(i).padStart(4, "0")}`)));
  // Each user likes one post (never the measured one), so feeds differ per user.
  for (let i = 0; i < users.length; i += 50) {
    await Promise.all(
      tokens.slice(i, i + 50).map((token, k) => {
        const http = new ConvexHttpClient(engine.cloudUrl, { logger: false });
        http.setAuth(token);
        return http.mutation(api.posts.toggleLike, { postId: posts[1 + ((i + k) % (FEED_POSTS - 1))] as Id<"posts"> });
      }),
    );
  }
  const measured = posts[0] as Id<"posts">;
  const likerClient = new ConvexHttpClient(engine.cloudUrl, { logger: false });
  likerClient.setAuth(await app.token("liker"));
  void liker;

  const rawServer = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
  const rawSockets: WebSocket[] = [];
  rawServer.on("connection", (ws) => rawSockets.push(ws));
  await new Promise((resolve) => rawServer.once("listening", resolve));
  const rawUrl = `ws://127.0.0.1:${(rawServer.address() as { port: number }).port}`;

  const rows: Row[] = [];
  const memory: { label: string; sessions: number; heapPerSession: number; rssPerSession: number; clientRss?: number }[] = [];
  let likes = 0;
  const profile = PROFILE === undefined ? null : new WindowProfile(PROFILE, 250, process.env.SYNC_BENCH_PROFILE_ALLOCATIONS === "1");
  for (const clients of SIZES) {
    for (const mode of clients === 1 || clients > SAME_USER_UP_TO ? ["distinct"] : ["distinct", "same user"]) {
      const child = await startChild(childFile);
      const before = measureMemory();
      const ready = await child.request({ kind: "official", cloudUrl: engine.cloudUrl, tokens: mode === "distinct" ? tokens.slice(0, clients) : tokens.slice(0, 1).concat(Array(clients - 1).fill(tokens[0])), postId: measured }, "ready");
      await engine.sync.idle();
      if (clients >= 1_000) {
        const after = measureMemory();
        memory.push({
          label: `${clients} official clients, signed in, feed subscribed (${mode})`,
          sessions: clients,
          heapPerSession: (after.heap - before.heap) / clients,
          rssPerSession: (after.rss - before.rss) / clients,
          clientRss: ready.rss as number,
        });
      }
      // The baseline's sockets: the same text to the same number of sockets from a plain ws
      // server, one broadcast right after each like (below), so both see the machine as it was
      // then (its speed swings within a run by more than a ratio's margin).
      const rawChild = await startChild(childFile);
      rawSockets.length = 0;
      await rawChild.request({ kind: "raw", url: rawUrl, count: clients }, "ready");
      const rawLatencies: number[] = [];
      const rawClientCpu: number[] = [];
      const rawSend: number[] = [];
      const latencies: number[] = [];
      const costs: LikeCost[] = [];
      const clientCpu: number[] = [];
      // Trials below 0 warm up (the first like after subscribing still compiles the re-run
      // path on every thread: ~1.5x the engine CPU of the next ones); printed, not pooled.
      const warm = { latencies: [] as number[], raw: [] as number[] };
      for (let trial = -WARM_UP_LIKES; trial < TRIALS; trial++) {
        const measuring = trial >= 0;
        if (measuring) await profile?.start();
        likes = likes === 0 ? 1 : 0;
        await child.request({ kind: "expect", likes }, "armed");
        captureNext = true;
        const seen = child.next("seen");
        const statsBefore = engine.sync.stats();
        const cpuBefore = process.cpuUsage();
        const eluBefore = performance.eventLoopUtilization();
        const threadsBefore = threadCpuMs();
        await likerClient.mutation(api.posts.toggleLike, { postId: measured });
        const { times, cpuMs } = (await seen) as { times: number[]; cpuMs: number };
        await engine.sync.idle();
        const cost = likeCost(statsBefore, engine.sync.stats(), process.cpuUsage(cpuBefore), performance.eventLoopUtilization(eluBefore), threadsBefore);
        if (measuring) {
          costs.push(cost);
          clientCpu.push(cpuMs);
          latencies.push(...times.map((t) => t - commitAt));
        } else warm.latencies.push(...times.map((t) => t - commitAt));
        await engine.sync.idle();
        if (measuring && profile !== null) console.log(`  profile: ${await profile.stop(`main-${clients}-${mode.replace(" ", "-")}-like${trial + 1}`)}`);

        await rawChild.request({ kind: "raw-expect" }, "armed");
        const rawSeen = rawChild.next("seen");
        const sentAt = epochNow();
        for (const ws of rawSockets) ws.send(payload);
        if (measuring) rawSend.push(epochNow() - sentAt);
        const raw = (await rawSeen) as { times: number[]; cpuMs: number };
        (measuring ? rawLatencies : warm.raw).push(...raw.times.map((t) => t - sentAt));
        if (measuring) rawClientCpu.push(raw.cpuMs);
      }
      if (WARM_UP_LIKES > 0) {
        const w = percentiles(warm.latencies);
        console.log(`  ${clients} clients (${mode}), warm-up like${WARM_UP_LIKES > 1 ? "s" : ""} (not in the tables): p50 ${w.p50.toFixed(1)} ms, p99 ${w.p99.toFixed(1)} ms; raw ws p50 ${percentile(warm.raw, 0.5).toFixed(1)} ms`);
      }
      await child.stop();
      await rawChild.stop();

      const row: Row = {
        clients,
        mode,
        ...percentiles(latencies),
        rawP50: percentile(rawLatencies, 0.5),
        rawP99: percentile(rawLatencies, 0.99),
        clientCpu: percentile(clientCpu, 0.5),
        rawClientCpu: percentile(rawClientCpu, 0.5),
        rawSendMs: percentile(rawSend, 0.5),
        costs,
        transitionBytes: Buffer.byteLength(payload),
      };
      rows.push(row);
      console.log(`  ${clients} clients (${mode}): p50 ${row.p50.toFixed(1)} ms, p99 ${row.p99.toFixed(1)} ms`);
    }
  }

  const idleChild = await startChild(childFile);
  const before = measureMemory();
  await idleChild.request({ kind: "idle", cloudUrl: engine.cloudUrl, count: IDLE_SESSIONS }, "ready");
  await engine.sync.idle();
  const after = measureMemory();
  memory.push({
    label: `${IDLE_SESSIONS.toLocaleString("en")} idle sync sessions (connected, empty query set)`,
    sessions: IDLE_SESSIONS,
    heapPerSession: (after.heap - before.heap) / IDLE_SESSIONS,
    rssPerSession: (after.rss - before.rss) / IDLE_SESSIONS,
  });
  const idleTotal = { heap: after.heap - before.heap, rss: after.rss - before.rss };
  await idleChild.stop();

  printLatency(rows);
  printRounds(rows);
  console.log("\nEngine memory (V8 heap after GC, and RSS)");
  console.table(
    memory.map((m) => ({
      sessions: m.label,
      "heap KB / session": (m.heapPerSession / 1024).toFixed(1),
      "RSS KB / session": (m.rssPerSession / 1024).toFixed(1),
      "client process RSS MB": m.clientRss === undefined ? "" : (m.clientRss / 2 ** 20).toFixed(0),
    })),
  );
  console.log(`10,000 idle sessions in total: heap +${(idleTotal.heap / 2 ** 20).toFixed(1)} MB, RSS +${(idleTotal.rss / 2 ** 20).toFixed(1)} MB`);

  rawServer.close();
  await bench.close();
}

function printLatency(rows: Row[]): void {
  console.log(`\nLike → every subscriber sees the new count (ms, ${TRIALS} likes per row, all clients pooled)`);
  console.table(
    rows.map((r) => ({
      clients: r.clients,
      subscriptions: r.mode === "distinct" ? `${r.clients} distinct` : "1 shared",
      p50: r.p50.toFixed(1),
      p99: r.p99.toFixed(1),
      max: r.max.toFixed(1),
      "raw ws p50": r.rawP50.toFixed(1),
      "raw ws p99": r.rawP99.toFixed(1),
      "ratio p50": (r.p50 / r.rawP50).toFixed(1),
      "ratio p99": (r.p99 / r.rawP99).toFixed(1),
      "frame bytes": r.transitionBytes,
    })),
  );
}

function printRounds(rows: Row[]): void {
  console.log("\nWhere the engine's time goes per like (median over the likes of a row, ms)");
  console.table(
    rows.map((r) => {
      const med = (pick: (c: LikeCost) => number) => percentile(r.costs.map(pick), 0.5);
      return {
        clients: r.clients,
        subscriptions: r.mode === "distinct" ? `${r.clients} distinct` : "1 shared",
        "engine CPU": med((c) => c.cpuMs).toFixed(1),
        "main thread busy": med((c) => c.mainMs).toFixed(1),
        "main thread CPU": med((c) => c.mainCpuMs).toFixed(1),
        "query workers CPU": med((c) => c.workersCpuMs).toFixed(1),
        "other threads CPU": med((c) => c.otherCpuMs).toFixed(1),
        runs: med((c) => c.runs),
        "run time (summed)": med((c) => c.runMs).toFixed(1),
        "per run": percentile(r.costs.map((c) => c.runMs / Math.max(1, c.runs)), 0.5).toFixed(3),
        "build + send": med((c) => c.emitMs).toFixed(1),
        transitions: med((c) => c.transitions),
        "raw send loop": r.rawSendMs.toFixed(1),
        "client CPU": r.clientCpu.toFixed(1),
        "raw client CPU": r.rawClientCpu.toFixed(1),
      };
    }),
  );
  // The clients run in one process, one event loop: the last callback cannot come before the
  // process has done every client's work, even with an engine that took no time at all.
  for (const r of rows) {
    if (r.mode !== "distinct" || r.clients < 100) continue;
    console.log(
      `${r.clients} official clients: ${r.clientCpu.toFixed(0)} ms of client CPU per like (raw sockets: ${r.rawClientCpu.toFixed(0)} ms), ` +
        `so p99 ≥ ~${r.clientCpu.toFixed(0)} ms = ${(r.clientCpu / r.rawP99).toFixed(1)}× the raw p99 with a zero-cost engine`,
    );
  }
}


function measureMemory(): { heap: number; rss: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) gc?.();
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed, rss: usage.rss };
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
