/**
 * Sustained real-time load (issue #11): 1,000 official `ConvexClient`s, each
 * signed in as its own user and subscribed to `posts.getFeedPosts` (20 posts,
 * so 1,000 distinct subscriptions), while 100 other signed-in clients like,
 * comment and follow at a steady 50 mutations/s for 60 s (open loop: a call
 * every 20 ms whatever the previous ones do). Subscribers and mutators each
 * run in a process of their own.
 *
 * Measured: mutation latency (scheduled instant → the promise settles, which
 * waits for the Transition that shows it, §5.5) p50/p99, and update staleness
 * (a like or comment committing, seen in the engine's onCommit → each
 * subscriber's feed first showing it) p50/p99. Baselines in the same run: the
 * same mutation schedule with no subscribers (mutation latency), and a plain
 * `ws` server sending a frame of the feed's size to 1,000 sockets for every
 * update of the same schedule, with the engine's flow control (staleness; see
 * `rawBroadcast`), and the same official clients subscribed to a server that speaks the
 * sync protocol but runs no query (`support/protocol-broadcast.ts`: the staleness an engine
 * costing nothing per subscriber would show on these cores, the clients' own decoding
 * included). The engine's CPU time over the load is printed too.
 *
 * Sizes: `SYNC_SUSTAINED_SUBSCRIBERS` (1000), `SYNC_SUSTAINED_SECONDS` (60),
 * `SYNC_SUSTAINED_RATE` (50). Run: `npm run bench sync-sustained`.
 */
import { ConvexHttpClient } from "convex/browser";
import type { Value } from "convex/values";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { WebSocketServer } from "ws";
import { api } from "../convex/_generated/api";
import type { Engine } from "../packages/engine/src/engine-options";
import type { CommitSummary } from "../packages/engine/src/runtime/runtime-database";
import { DEFAULT_FLOW_LIMITS, FlowBudget, SocketFlow } from "../packages/engine/src/sync/socket-flow";
import { threadCpuMs } from "./support/main-thread-cpu";
import { buildClientProcess, epochNow, startClientProcess } from "./support/client-process";
import { onEveryCommit, startInstagramBench } from "./support/instagram-engine";
import { protocolBroadcast, sendWhenCaughtUp } from "./support/protocol-broadcast";

const SUBSCRIBERS = Number(process.env.SYNC_SUSTAINED_SUBSCRIBERS ?? 1_000);
const SECONDS = Number(process.env.SYNC_SUSTAINED_SECONDS ?? 60);
const RATE = Number(process.env.SYNC_SUSTAINED_RATE ?? 50);
const MUTATORS = 100;
const FEED_POSTS = 20;

interface Latency {
  p50: number;
  p99: number;
  max: number;
}

async function main(): Promise<void> {
  const childFile = await buildClientProcess("sync-load-clients");
  const bench = await startInstagramBench();
  const { engine, app } = bench;

  // When each post's like and comment counts reached each value, in the subscribers' clock.
  const commits = new Map<string, number>();
  onEveryCommit(engine, (commit, at) => recordCounts(engine, commit, commits, at));

  console.log(`seeding: ${SUBSCRIBERS} subscribers, ${MUTATORS} mutators, ${FEED_POSTS} posts …`);
  const author = await app.createUser("author");
  const posts: string[] = [];
  for (let i = 0; i < FEED_POSTS; i++) posts.push(await app.seedPost(author, `post ${i} ${"caption ".repeat(20)}`));
  const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(4, "0")}`);
  const subscriberNames = names("sub", SUBSCRIBERS);
  const mutatorNames = names("mut", MUTATORS);
  const mutatorIds: string[] = [];
  for (let i = 0; i < subscriberNames.length; i += 50) await Promise.all(subscriberNames.slice(i, i + 50).map((n) => app.createUser(n)));
  for (const name of mutatorNames) mutatorIds.push(await app.createUser(name));
  const subscriberTokens = await Promise.all(subscriberNames.map((n) => app.token(n)));
  const mutatorTokens = await Promise.all(mutatorNames.map((n) => app.token(n)));

  const load = { cloudUrl: engine.cloudUrl, posts, users: mutatorIds, rate: RATE, seconds: SECONDS };

  // Baseline 1: the same schedule with nobody subscribed (fresh posts: likes must not repeat).
  const basePosts: string[] = [];
  for (let i = 0; i < FEED_POSTS; i++) basePosts.push(await app.seedPost(author, `baseline ${i}`));
  console.log(`baseline: ${RATE} mutations/s for ${SECONDS} s, no subscribers …`);
  const quietMutators = await startClientProcess(childFile);
  engine.sync.resetMutationTimings?.();
  const quiet = (await quietMutators.request({ kind: "mutators", ...load, posts: basePosts, tokens: mutatorTokens }, "mutated")) as unknown as Latency & { failures: number };
  await quietMutators.stop();
  const quietPhases = engine.sync.stats().mutations;

  console.log(`subscribing ${SUBSCRIBERS} clients …`);
  const subscribers = await startClientProcess(childFile, ["--max-old-space-size=4096"]);
  await subscribers.request({ kind: "subscribers", cloudUrl: engine.cloudUrl, tokens: subscriberTokens }, "ready");
  await engine.sync.idle();
  commits.clear();

  console.log(`load: ${RATE} mutations/s for ${SECONDS} s with ${SUBSCRIBERS} subscribers …`);
  engine.sync.resetMutationTimings?.();
  const countersBefore = engineCounters(engine);
  const statsBefore = engine.sync.stats();
  const cpuBefore = process.cpuUsage();
  const threadsBefore = threadCpuMs();
  const eluBefore = performance.eventLoopUtilization();
  // How long the thread that serves the sockets could not take up anything new (10 ms resolution).
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const wallBefore = epochNow();
  const mutators = await startClientProcess(childFile);
  const loaded = (await mutators.request({ kind: "mutators", ...load, tokens: mutatorTokens }, "mutated")) as unknown as Latency & { failures: number; calls: number; cpuMs: number };
  await engine.sync.idle();
  const cpu = process.cpuUsage(cpuBefore);
  const threadsAfter = threadCpuMs();
  const mainCpu = threadsAfter.main - threadsBefore.main;
  const workersCpu = threadsAfter.queryWorkers - threadsBefore.queryWorkers;
  const otherCpu = threadsAfter.other - threadsBefore.other;
  const elu = performance.eventLoopUtilization(eluBefore);
  loopDelay.disable();
  const wall = (epochNow() - wallBefore) / 1000;
  const statsAfter = engine.sync.stats();
  const counters = countersSince(engineCounters(engine), countersBefore);
  await mutators.stop();
  const stale = (await subscribers.request({ kind: "staleness", commits: [...commits] }, "staleness")) as unknown as Latency & { samples: number; unmatched: number; cpuMs: number };
  await subscribers.stop();

  // Baseline 2: a plain ws server sending feed-sized frames to as many sockets on the same
  // schedule, with the engine's flow control (a client behind on reading is skipped; its next
  // frame covers every update it missed), so both sides may coalesce the same way.
  console.log("baseline: raw ws broadcast on the same schedule …");
  const feed = (await new ConvexHttpClient(engine.cloudUrl, { logger: false }).query(api.posts.getFeedPosts, {})) as unknown as Record<string, Value>[];
  const feedBytes = JSON.stringify(feed).length;
  const raw = await rawBroadcast(childFile, feedBytes);
  // Baseline 3: the official clients' own share, with a server that runs no query.
  console.log("baseline: a sync-protocol server that runs no query, official clients, same schedule …");
  const floor = await protocolBroadcast(childFile, feed, subscriberTokens, RATE, SECONDS);
  const ms = (n: number) => n.toFixed(1);
  console.log(`\nSustained load: ${SUBSCRIBERS} distinct feed subscribers, ${RATE} mutations/s (likes, comments, follows) for ${SECONDS} s`);
  console.table([
    { measure: "mutation latency", p50: ms(loaded.p50), p99: ms(loaded.p99), max: ms(loaded.max), "baseline p50": ms(quiet.p50), "baseline p99": ms(quiet.p99), "ratio p99": (loaded.p99 / quiet.p99).toFixed(1), baseline: "same schedule, no subscribers" },
    { measure: "update staleness", p50: ms(stale.p50), p99: ms(stale.p99), max: ms(stale.max), "baseline p50": ms(raw.p50), "baseline p99": ms(raw.p99), "ratio p99": (stale.p99 / raw.p99).toFixed(1), baseline: `raw ws, ${feedBytes} B frames, ${raw.frames} sent` },
    { measure: "update staleness", p50: ms(stale.p50), p99: ms(stale.p99), max: ms(stale.max), "baseline p50": ms(floor.p50), "baseline p99": ms(floor.p99), "ratio p99": (stale.p99 / floor.p99).toFixed(1), baseline: `official clients, a server running no query, ${floor.transitions} Transitions` },
  ]);
  console.log(
    `mutations: ${loaded.calls} (${loaded.failures} failed, baseline ${quiet.failures}); staleness samples: ${stale.samples} (${stale.unmatched} without a recorded commit)\n` +
      `engine: ${((cpu.user + cpu.system) / 1000 / wall / 10).toFixed(0)}% of a core over ${wall.toFixed(1)} s wall (CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s, main thread CPU ${(mainCpu / 1000).toFixed(1)} s = ` +
      `${(mainCpu / Math.max(1, statsAfter.queryRuns - statsBefore.queryRuns)).toFixed(3)} ms per subscription run, main thread busy ${(elu.utilization * 100).toFixed(0)}%; ` +
      `query workers ${(workersCpu / 1000).toFixed(1)} s = ${(workersCpu / Math.max(1, statsAfter.queryRuns - statsBefore.queryRuns)).toFixed(3)} ms per run, ` +
      `other threads (GC helpers, writer, …) ${(otherCpu / 1000).toFixed(1)} s); ` +
      `${statsAfter.queryRuns - statsBefore.queryRuns} subscription runs, ${statsAfter.transitionsSent - statsBefore.transitionsSent} Transitions, ` +
      `${statsAfter.staleResults - statsBefore.staleResults} results stale on arrival` +
      (statsAfter.unshownResults === undefined ? "" : `, ${statsAfter.unshownResults - statsBefore.unshownResults} replaced before any client was sent them`) +
      `, at most ${statsAfter.maxRunsInFlight} runs in flight`,
  );
  console.log(`client processes (sharing the 2 cores): subscribers ${(stale.cpuMs / 1000).toFixed(1)} s CPU, mutators ${(loaded.cpuMs / 1000).toFixed(1)} s CPU over the load`);
  console.log(
    `server running no query: ${floor.samples} of ${floor.expected} sightings; subscribers ${(floor.clientsCpuMs / 1000).toFixed(1)} s CPU ` +
      `(${(floor.clientsCpuMs / Math.max(1, floor.transitions)).toFixed(3)} ms per Transition), server ${(floor.serverCpuMs / 1000).toFixed(1)} s CPU`,
  );
  console.log(
    `subscription runs: ${(statsAfter.runMs - statsBefore.runMs) / Math.max(1, statsAfter.queryRuns - statsBefore.queryRuns) < 0 ? "?" : ((statsAfter.runMs - statsBefore.runMs) / Math.max(1, statsAfter.queryRuns - statsBefore.queryRuns)).toFixed(1)} ms from dispatch to result on average` +
      (counters.pool === null ? "" : `; query workers answered ${counters.pool.jobs} jobs and dropped all their caches ${counters.pool.unannounced} times (snapshot ahead of the commits they heard of) + ${counters.pool.gap} (a missed commit)`),
  );
  if (counters.writer !== null) {
    const w = counters.writer;
    console.log(
      `writer: ${w.mutations} mutations in ${w.batches} batches, ${(w.executingMs / Math.max(1, w.batches)).toFixed(1)} ms per batch on the writer, ` +
        `queue wait ${(w.waitedMs / Math.max(1, w.dispatched)).toFixed(1)} ms per mutation, ${w.syncs} WAL syncs of ${(w.syncMs / Math.max(1, w.syncs)).toFixed(1)} ms`,
    );
  }
  const phases = (label: string, p: NonNullable<typeof quietPhases>) =>
    console.log(
      `${label}: ` +
        (["inbox", "call", "transition"] as const).map((k) => `${k} p50/p99/max ${p[k].p50Ms.toFixed(1)}/${p[k].p99Ms.toFixed(1)}/${p[k].maxMs.toFixed(1)} ms`).join(", "),
    );
  const delayMs = (q: number) => (loopDelay.percentile(q) / 1e6).toFixed(1);
  console.log(`main thread event-loop delay under load: p50 ${delayMs(50)}, p99 ${delayMs(99)}, max ${(loopDelay.max / 1e6).toFixed(1)} ms`);
  if (quietPhases !== undefined) phases("engine side of a mutation, no subscribers", quietPhases);
  if (statsAfter.mutations !== undefined) phases("engine side of a mutation, under load", statsAfter.mutations);
  console.log("targets (issue #11): mutation p99 ≤ 100 ms, staleness p99 ≤ 1,000 ms");

  await bench.close();
}

interface Counters {
  writer: { batches: number; mutations: number; executingMs: number; syncs: number; syncMs: number; dispatched: number; waitedMs: number } | null;
  pool: { jobs: number; unannounced: number; gap: number } | null;
}

/**
 * The writer's and the query workers' counters, where this checkout's engine has them (a
 * "before" checkout may not: then null).
 */
function engineCounters(engine: Engine): Counters {
  const runtime = engine.app.runtime as unknown as {
    mutations?: { writerStats?: () => Counters["writer"] };
    threads?: { queryPool?: { counters?: { jobs: number; cacheDrops: { unannounced: number; gap: number } } } | null };
  };
  const writer = runtime.mutations?.writerStats?.() ?? null;
  const pool = runtime.threads?.queryPool?.counters;
  return {
    writer: writer === null ? null : { ...writer },
    pool: pool === undefined ? null : { jobs: pool.jobs, unannounced: pool.cacheDrops.unannounced, gap: pool.cacheDrops.gap },
  };
}

function countersSince(after: Counters, before: Counters): Counters {
  const minus = <T extends Record<string, number>>(a: T | null, b: T | null): T | null =>
    a === null || b === null ? null : (Object.fromEntries(Object.keys(a).map((k) => [k, a[k]! - b[k]!])) as T);
  const { writer: w, pool: p } = after;
  const pick = (x: Counters["writer"]) => x && { batches: x.batches, mutations: x.mutations, executingMs: x.executingMs, syncs: x.syncs, syncMs: x.syncMs, dispatched: x.dispatched, waitedMs: x.waitedMs };
  return { writer: minus(pick(w), pick(before.writer)), pool: minus(p, before.pool) };
}

/**
 * The staleness baseline: a plain `ws` server and SUBSCRIBERS bare sockets in a client
 * process. On the mutators' schedule, every tick that changes the feed (likes and comments:
 * 8 in 10; follows do not) is an update; each socket is sent a frame of the feed's size
 * carrying the send instants of every update it has not seen yet, unless the engine's flow
 * control (`SocketFlow`: unacknowledged bytes above the Transition gate) holds it back, in
 * which case it gets one frame for all of them once it caught up. The client parses each
 * frame and records, per update covered, the delay from its instant.
 */
async function rawBroadcast(childFile: string, feedBytes: number): Promise<Latency & { samples: number; frames: number }> {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
  const budget = new FlowBudget(DEFAULT_FLOW_LIMITS, () => performance.now());
  const sockets: { flow: SocketFlow; unsent: number[]; waiting: boolean }[] = [];
  server.on("connection", (ws) => sockets.push({ flow: new SocketFlow(ws, budget, () => {}), unsent: [], waiting: false }));
  await new Promise((resolve) => server.once("listening", resolve));
  const child = await startClientProcess(childFile);
  await child.request({ kind: "raw", url: `ws://127.0.0.1:${(server.address() as { port: number }).port}`, count: SUBSCRIBERS }, "ready");
  const padding = "x".repeat(feedBytes);
  let frames = 0;
  const flush = (socket: (typeof sockets)[number]) => {
    if (socket.unsent.length === 0) return;
    sendWhenCaughtUp(socket, () => {
      socket.flow.send(JSON.stringify({ updates: socket.unsent, padding }));
      socket.unsent = [];
      frames += 1;
    });
  };
  const start = epochNow() + 50;
  let updates = 0;
  for (let i = 0; i < RATE * SECONDS; i++) {
    if (i % 10 >= 8) continue;
    const due = start + i * (1000 / RATE);
    const wait = due - epochNow();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const at = epochNow();
    updates += 1;
    for (const socket of sockets) {
      socket.unsent.push(at);
      flush(socket);
    }
  }
  // Answered once every socket has seen every update.
  const result = (await child.request({ kind: "raw-run", updates }, "raw-delays")) as unknown as Latency & { samples: number };
  await child.stop();
  server.close();
  return { ...result, frames };
}

/**
 * Records when each post's like and comment counts first reached each value. The writer's
 * commits carry no document texts (they stay on the writer thread), so the post is read
 * here, on the main thread's connection, as the commit is announced. With pipelined
 * durability the writer may already have committed the next batch; a count read then is
 * dated to this earlier announcement, which can only make the measured staleness larger.
 */
function recordCounts(engine: Engine, commit: CommitSummary, into: Map<string, number>, at: number): void {
  for (const write of commit.writes) {
    if (write.table !== "posts" || write.id === "") continue;
    const text = write.newText ?? engine.store.get(write.id);
    if (text === null) continue;
    const now = JSON.parse(text) as { _id: string; likes: number; comments: number };
    for (const field of ["likes", "comments"] as const) {
      // Counts only grow in this benchmark (likes never repeat): every count up to now not seen before.
      for (let count = now[field]; count > 0; count--) {
        const key = `${now._id}|${field}|${count}`;
        if (into.has(key)) break;
        into.set(key, at);
      }
    }
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);

