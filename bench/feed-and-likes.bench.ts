/**
 * Engine core benchmark (issue #3): 1,000 users, 10,000 posts, 100,000 likes,
 * 10,000 bookmarks.
 *
 * (a) A 20-post feed page with author, isLiked and isBookmarked
 *     (`posts.getGlobalFeed`) through `ConvexHttpClient`, next to hand-written
 *     better-sqlite3 SQL returning the same page, both in process and behind a
 *     plain Node HTTP endpoint called with fetch (the like-for-like baseline).
 *     The engine is measured as it runs (its query cache serves repeat reads
 *     until a commit touches them, as Convex's does), with the cache off (every
 *     page executes the query on a query worker), and with the cache off and no
 *     worker threads (queries and mutations on the main thread, the engine before
 *     issue 11), so the executor's cost shows in one run. A fourth row sends the same
 *     `ConvexHttpClient` calls to a node:http server that answers each with the engine's bytes
 *     for one page and does nothing else: what the client library and HTTP cost with no engine
 *     (the floor under the engine's rows), and the median round trip to a worker thread on
 *     this machine (`support/thread-hop.ts`). Every implementation is warmed up
 *     before any is measured. The engine without worker threads is started, seeded and
 *     measured last: it runs functions on this thread under AsyncLocalStorage, which on
 *     Node 20 turns on async hooks for every promise of the process from then on (a cost
 *     no other row has in production, the SQL baseline's fetch included). Latency p50/p99 one request at a time, and
 *     pages/s with 16 in flight; 50 viewers take turns.
 * (b) Durable `posts.toggleLike` mutations per second (SQLite synchronous=FULL,
 *     acknowledged only after commit) from 64 concurrent clients.
 * `FEED_BENCH_PROFILE=<folder>`: a CPU profile of the main thread over the measured
 * pages of the "query cache off" row only (`main-uncached.cpuprofile`).
 */
import { ConvexHttpClient } from "convex/browser";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { api } from "../convex/_generated/api";
import { createEngine } from "../packages/engine/src/engine";
import { convexToJson, type Value } from "convex/values";
import { buildBaseline, latency, LIKES, PAGE, POSTS, seed, serveBaseline, serveCanned, throughput, USERS, BOOKMARKS, type Seeded } from "./fixtures/feed-data";
import { startTestIssuer } from "../packages/engine/test/support/test-issuer";
import { seededRandom, randomTools } from "../packages/engine/test/support/seeded-random";
import { quietLogger } from "../packages/engine/test/support/test-engine";
import { threadHop } from "./support/thread-hop";
import { WindowProfile } from "./support/window-profile";

const LATENCY_SAMPLES = 400;
const THROUGHPUT_PAGES = 4_000;
const CONCURRENCY = 16;
const LIKE_CLIENTS = 64;
const LIKE_SECONDS = 5;

/** Every engine is seeded from the same seed, so both hold the same logical data. */
const newRng = () => randomTools(seededRandom(42));
let rng = newRng();
const quiet = quietLogger();
const PROFILE = process.env.FEED_BENCH_PROFILE;

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "bench-feed-"));
  const issuer = await startTestIssuer();
  const uncachedDir = mkdtempSync(path.join(tmpdir(), "bench-feed-nocache-"));
  const inlineDir = mkdtempSync(path.join(tmpdir(), "bench-feed-inline-"));
  const start = (dir: string, queryCache: boolean, queryWorkers?: number) =>
    createEngine({
      appDir: path.resolve("convex"),
      dataDir: dir,
      port: 0,
      sitePort: 0,
      // Clients like as fast as they can from few accounts, past the app's
      // per-user like limit; the benchmark measures the engine, not that limit.
      env: { CLERK_JWT_ISSUER_DOMAIN: issuer.issuer, RATE_LIMIT_SCALE: "1000000" },
      logger: quiet,
      queryCache,
      queryWorkers,
    });
  const engine = await start(dataDir, true);
  const uncachedEngine = await start(uncachedDir, false);
  let inlineEngine: Awaited<ReturnType<typeof start>> | null = null;
  try {
    console.log(`seeding ${USERS} users, ${POSTS} posts, ${LIKES} likes, ${BOOKMARKS} bookmarks (three times)…`);
    const seeded = await seed(engine, rng);
    rng = newRng();
    const uncachedSeeded = await seed(uncachedEngine, rng);
    const baselineDb = buildBaseline(seeded);

    const viewers = Array.from({ length: 50 }, () => rng.int(0, USERS - 1));
    const clientsOf = (cloudUrl: string, data: Seeded) =>
      Promise.all(
        viewers.map(async (u) => {
          const c = new ConvexHttpClient(cloudUrl, { logger: false });
          c.setAuth(await issuer.mint({ sub: data.clerkIds[u]! }));
          return c;
        }),
      );
    const clients = await clientsOf(engine.cloudUrl, seeded);
    const uncachedClients = await clientsOf(uncachedEngine.cloudUrl, uncachedSeeded);
    const pageOf = (list: ConvexHttpClient[]) => (i: number) =>
      list[i % list.length]!.query(api.posts.getGlobalFeed, { paginationOpts: { numItems: PAGE, cursor: null } });
    const enginePage = pageOf(clients);
    const uncachedPage = pageOf(uncachedClients);
    const sqlPage = (i: number) => baselineDb.page(seeded.userIds[viewers[i % viewers.length]!]!);
    const sqlServer = await serveBaseline(sqlPage);
    const httpPage = async (i: number) => (await fetch(`${sqlServer.url}?i=${i}`)).json();
    // The engine's answer for one page as it goes over HTTP, served by a server that does nothing else.
    const cannedServer = await serveCanned(JSON.stringify({ status: "success", value: convexToJson((await uncachedPage(0)) as unknown as Value), logLines: [] }));
    const cannedPage = pageOf(await clientsOf(cannedServer.url, uncachedSeeded));

    // Same answer from both.
    const a = (await enginePage(0)).page.map((p) => [p._id, p.likes, p.isLiked, p.isBookmarked]);
    const b = sqlPage(0).map((p) => [p._id, p.likes, p.isLiked, p.isBookmarked]);
    if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error("engine and SQL pages differ");

    type Page = (i: number) => Promise<unknown>;
    const implementations: [string, Page][] = [
      ["engine (ConvexHttpClient)", enginePage],
      ["engine, query cache off", uncachedPage],
      ["ConvexHttpClient, a fixed answer behind node:http (no engine)", cannedPage],
      ["SQL behind node:http + fetch", httpPage],
      ["SQL in process", async (i: number) => sqlPage(i)],
    ];
    const profile = PROFILE === undefined ? null : new WindowProfile(PROFILE);
    const measure = async (list: [string, Page][]) => {
      // Warm every path up before measuring any, so no row pays the process's warm-up.
      for (const [, fn] of list) {
        await latency(fn, 200);
        await throughput(fn, 400, CONCURRENCY);
      }
      const measured = [];
      for (const [name, fn] of list) {
        const profiled = profile !== null && fn === uncachedPage;
        if (profiled) await profile.start();
        const cpu = process.cpuUsage();
        const lat = await latency(fn, LATENCY_SAMPLES);
        const rate = await throughput(fn, THROUGHPUT_PAGES, CONCURRENCY);
        const used = process.cpuUsage(cpu);
        if (profiled) console.log(`profile: ${await profile.stop("main-uncached")}`);
        // CPU of this whole process (every thread, the clients' side too) per page measured.
        measured.push({ name, p50: lat.p50, p99: lat.p99, rate, cpuMs: (used.user + used.system) / 1000 / (LATENCY_SAMPLES + THROUGHPUT_PAGES) });
      }
      return measured;
    };
    const rows = await measure(implementations);
    await sqlServer.close();
    await cannedServer.close();
    const likeRate = await likeThroughput(engine.cloudUrl, seeded, issuer);

    // Last: the engine without worker threads (see the header: it turns on async hooks).
    inlineEngine = await start(inlineDir, false, 0);
    rng = newRng();
    const inlineSeeded = await seed(inlineEngine, rng);
    const inlinePage = pageOf(await clientsOf(inlineEngine.cloudUrl, inlineSeeded));
    rows.splice(2, 0, ...(await measure([["engine, query cache off, no worker threads", inlinePage]])));
    const inlineLikeRate = await likeThroughput(inlineEngine.cloudUrl, inlineSeeded, issuer);

    const base = rows.find((r) => r.name.startsWith("SQL behind"))!;
    console.log(`\n(a) ${PAGE}-post feed page with author, isLiked, isBookmarked (${USERS} users, ${POSTS} posts, ${LIKES} likes)`);
    console.table(
      rows.map((r) => ({
        implementation: r.name,
        "p50 ms": r.p50.toFixed(3),
        "p99 ms": r.p99.toFixed(3),
        "pages/s": Math.round(r.rate),
        "CPU ms/page": r.cpuMs.toFixed(3),
        "p50 vs SQL+HTTP": (r.p50 / base.p50).toFixed(2) + "×",
        "pages/s vs SQL+HTTP": (base.rate / r.rate).toFixed(2) + "× slower",
      })),
    );
    const hop = await threadHop();
    console.log(
      `a round trip to a worker thread on this machine (each query on a query worker makes one): ${hop.idleRoundTripUs} µs after 1 ms idle ` +
        `(of which ${hop.idlePostUs} µs in postMessage, waking the worker), ${hop.awakeRoundTripUs} µs back to back (median)`,
    );

    console.log(`\n(b) durable toggleLike mutations (synchronous=FULL, ${LIKE_CLIENTS} clients, ${LIKE_SECONDS} s)`);
    console.table([
      { executor: "writer thread", "likes/s": Math.round(likeRate.rate), "p50 ms": likeRate.p50.toFixed(2), "p99 ms": likeRate.p99.toFixed(2) },
      { executor: "main thread (no worker threads)", "likes/s": Math.round(inlineLikeRate.rate), "p50 ms": inlineLikeRate.p50.toFixed(2), "p99 ms": inlineLikeRate.p99.toFixed(2) },
    ]);
  } finally {
    await engine.close();
    await uncachedEngine.close();
    await inlineEngine?.close();
    await issuer.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(uncachedDir, { recursive: true, force: true });
    rmSync(inlineDir, { recursive: true, force: true });
  }
}

async function likeThroughput(cloudUrl: string, seeded: Seeded, issuer: Awaited<ReturnType<typeof startTestIssuer>>) {
  const clients = await Promise.all(
    Array.from({ length: LIKE_CLIENTS }, async (_, i) => {
      const c = new ConvexHttpClient(cloudUrl, { logger: false });
      c.setAuth(await issuer.mint({ sub: seeded.clerkIds[i]! }));
      return c;
    }),
  );
  const times: number[] = [];
  let done = 0;
  const deadline = performance.now() + LIKE_SECONDS * 1000;
  const t0 = performance.now();
  await Promise.all(
    clients.map(async (c) => {
      while (performance.now() < deadline) {
        const t = performance.now();
        await c.mutation(api.posts.toggleLike, { postId: seeded.postIds[rng.int(0, POSTS - 1)]! });
        times.push(performance.now() - t);
        done += 1;
      }
    }),
  );
  const elapsed = performance.now() - t0;
  times.sort((x, y) => x - y);
  return { rate: (done / elapsed) * 1000, p50: times[Math.floor(times.length / 2)]!, p99: times[Math.floor(times.length * 0.99)]! };
}

await main();
