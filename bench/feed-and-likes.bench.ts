/**
 * Engine core benchmark (issue #3): 1,000 users, 10,000 posts, 100,000 likes,
 * 10,000 bookmarks.
 *
 * (a) A 20-post feed page with author, isLiked and isBookmarked
 *     (`posts.getGlobalFeed`) through `ConvexHttpClient`, next to hand-written
 *     better-sqlite3 SQL returning the same page, both in process and behind a
 *     plain Node HTTP endpoint called with fetch (the like-for-like baseline).
 *     The engine is measured twice: as it runs (its query cache serves repeat
 *     reads until a commit touches them, as Convex's does) and with the cache
 *     off (every page executes the query). Every implementation is warmed up
 *     before any is measured. Latency p50/p99 one request at a time, and
 *     pages/s with 16 in flight; 50 viewers take turns.
 * (b) Durable `posts.toggleLike` mutations per second (SQLite synchronous=FULL,
 *     acknowledged only after commit) from 64 concurrent clients.
 */
import Database from "better-sqlite3";
import { ConvexHttpClient } from "convex/browser";
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { api } from "../convex/_generated/api";
import type { Id } from "../convex/_generated/dataModel";
import { createEngine } from "../engine/engine";
import { startTestIssuer } from "../test/support/test-issuer";
import { seededRandom, randomTools } from "../test/support/seeded-random";

const USERS = 1_000;
const POSTS = 10_000;
const LIKES = 100_000;
const BOOKMARKS = 10_000;
const PAGE = 20;
const LATENCY_SAMPLES = 400;
const THROUGHPUT_PAGES = 4_000;
const CONCURRENCY = 16;
const LIKE_CLIENTS = 64;
const LIKE_SECONDS = 5;

/** Every engine is seeded from the same seed, so both hold the same logical data. */
const newRng = () => randomTools(seededRandom(42));
let rng = newRng();
const quiet = { info() {}, warn() {}, error: (m: string, e?: unknown) => console.error(m, e) };

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "bench-feed-"));
  const issuer = await startTestIssuer();
  const uncachedDir = mkdtempSync(path.join(tmpdir(), "bench-feed-nocache-"));
  const start = (dir: string, queryCache: boolean) =>
    createEngine({
      appDir: path.resolve("convex"),
      dataDir: dir,
      port: 0,
      sitePort: 0,
      env: { CLERK_JWT_ISSUER_DOMAIN: issuer.issuer },
      logger: quiet,
      queryCache,
    });
  const engine = await start(dataDir, true);
  const uncachedEngine = await start(uncachedDir, false);
  try {
    console.log(`seeding ${USERS} users, ${POSTS} posts, ${LIKES} likes, ${BOOKMARKS} bookmarks (twice)…`);
    const seeded = await seed(engine);
    rng = newRng();
    const uncachedSeeded = await seed(uncachedEngine);
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

    // Same answer from both.
    const a = (await enginePage(0)).page.map((p) => [p._id, p.likes, p.isLiked, p.isBookmarked]);
    const b = sqlPage(0).map((p) => [p._id, p.likes, p.isLiked, p.isBookmarked]);
    if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error("engine and SQL pages differ");

    const implementations = [
      ["engine (ConvexHttpClient)", enginePage],
      ["engine, query cache off", uncachedPage],
      ["SQL behind node:http + fetch", httpPage],
      ["SQL in process", async (i: number) => sqlPage(i)],
    ] as const;
    // Warm every path up before measuring any, so no row pays the process's warm-up.
    for (const [, fn] of implementations) {
      await latency(fn, 200);
      await throughput(fn, 400, CONCURRENCY);
    }
    const rows = [];
    for (const [name, fn] of implementations) {
      const lat = await latency(fn, LATENCY_SAMPLES);
      const rate = await throughput(fn, THROUGHPUT_PAGES, CONCURRENCY);
      rows.push({ name, p50: lat.p50, p99: lat.p99, rate });
    }
    const base = rows[2]!;
    console.log(`\n(a) ${PAGE}-post feed page with author, isLiked, isBookmarked (${USERS} users, ${POSTS} posts, ${LIKES} likes)`);
    console.table(
      rows.map((r) => ({
        implementation: r.name,
        "p50 ms": r.p50.toFixed(3),
        "p99 ms": r.p99.toFixed(3),
        "pages/s": Math.round(r.rate),
        "p50 vs SQL+HTTP": (r.p50 / base.p50).toFixed(2) + "×",
        "pages/s vs SQL+HTTP": (base.rate / r.rate).toFixed(2) + "× slower",
      })),
    );
    await sqlServer.close();

    const likeRate = await likeThroughput(engine.cloudUrl, seeded, issuer);
    console.log(`\n(b) durable toggleLike mutations (synchronous=FULL, ${LIKE_CLIENTS} clients, ${LIKE_SECONDS} s)`);
    console.table([{ "likes/s": Math.round(likeRate.rate), "p50 ms": likeRate.p50.toFixed(2), "p99 ms": likeRate.p99.toFixed(2) }]);
  } finally {
    await engine.close();
    await uncachedEngine.close();
    await issuer.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(uncachedDir, { recursive: true, force: true });
  }
}

interface Seeded {
  clerkIds: string[];
  userIds: Id<"users">[];
  postIds: Id<"posts">[];
  posts: { id: string; userId: string; creationTime: number; likes: number; caption: string; imageUrl: string; storageId: string }[];
  likes: [number, number][];
  bookmarks: [number, number][];
  users: { id: string; username: string; image: string }[];
}

/** Writes the data set straight into the store, in the shapes the app writes. */
async function seed(engine: Awaited<ReturnType<typeof createEngine>>): Promise<Seeded> {
  const store = engine.store;
  const out: Seeded = { clerkIds: [], userIds: [], postIds: [], posts: [], likes: [], bookmarks: [], users: [] };
  const likeSet = new Set<string>();
  while (likeSet.size < LIKES) likeSet.add(`${rng.int(0, USERS - 1)}:${rng.int(0, POSTS - 1)}`);
  out.likes = [...likeSet].map((s) => s.split(":").map(Number) as [number, number]);
  const bookmarkSet = new Set<string>();
  while (bookmarkSet.size < BOOKMARKS) bookmarkSet.add(`${rng.int(0, USERS - 1)}:${rng.int(0, POSTS - 1)}`);
  out.bookmarks = [...bookmarkSet].map((s) => s.split(":").map(Number) as [number, number]);
  const likesPerPost = new Array<number>(POSTS).fill(0);
  for (const [, p] of out.likes) likesPerPost[p]! += 1;
  const postAuthors = Array.from({ length: POSTS }, () => rng.int(0, USERS - 1));
  const postsPerUser = new Array<number>(USERS).fill(0);
  for (const a of postAuthors) postsPerUser[a]! += 1;

  await engine.app.runtime.transact(() => {
    for (let u = 0; u < USERS; u++) {
      const clerkId = `user_bench${u}`;
      const username = `bench${u}`;
      const image = `https://img.example.com/${u}.png`;
      const id = store.insert("users", {
        username, fullname: `Bench User ${u}`, email: `${clerkId}@example.com`, image,
        followers: 0, following: 0, posts: postsPerUser[u]!, clerkId,
      }) as Id<"users">;
      out.clerkIds.push(clerkId);
      out.userIds.push(id);
      out.users.push({ id, username, image });
    }
    for (let p = 0; p < POSTS; p++) {
      const storageId = store.insert("_storage", { sha256: randomBytes(32).toString("base64"), size: 1000, contentType: "image/jpeg" });
      const imageUrl = `${engine.cloudUrl}/api/storage/${storageId}`;
      const caption = `post ${p}`;
      const id = store.insert("posts", {
        userId: out.userIds[postAuthors[p]!]!, imageUrl, storageId, caption, likes: likesPerPost[p]!, comments: 0,
      }) as Id<"posts">;
      const doc = JSON.parse(store.get(id)!) as { _creationTime: number };
      out.postIds.push(id);
      out.posts.push({ id, userId: out.userIds[postAuthors[p]!]!, creationTime: doc._creationTime, likes: likesPerPost[p]!, caption, imageUrl, storageId });
    }
  });
  // Likes and bookmarks in chunks, so no single transaction holds 100,000 writes.
  for (let i = 0; i < out.likes.length; i += 10_000) {
    await engine.app.runtime.transact(() => {
      for (const [u, p] of out.likes.slice(i, i + 10_000)) store.insert("likes", { userId: out.userIds[u]!, postId: out.postIds[p]! });
    });
  }
  await engine.app.runtime.transact(() => {
    for (const [u, p] of out.bookmarks) store.insert("bookmarks", { userId: out.userIds[u]!, postId: out.postIds[p]! });
  });
  return out;
}

/** The same data in a plain normalized SQLite schema, and the hand-written feed query. */
function buildBaseline(seeded: Seeded) {
  const db = new Database(":memory:");
  db.exec(`
    CREATE TABLE users (id TEXT PRIMARY KEY, username TEXT, image TEXT);
    CREATE TABLE posts (id TEXT PRIMARY KEY, user_id TEXT, created REAL, image_url TEXT, storage_id TEXT, caption TEXT, likes INTEGER, comments INTEGER);
    CREATE INDEX posts_by_created ON posts(created);
    CREATE TABLE likes (user_id TEXT, post_id TEXT, PRIMARY KEY (user_id, post_id)) WITHOUT ROWID;
    CREATE TABLE bookmarks (user_id TEXT, post_id TEXT, PRIMARY KEY (user_id, post_id)) WITHOUT ROWID;
  `);
  db.transaction(() => {
    const iu = db.prepare("INSERT INTO users VALUES (?, ?, ?)");
    for (const u of seeded.users) iu.run(u.id, u.username, u.image);
    const ip = db.prepare("INSERT INTO posts VALUES (?, ?, ?, ?, ?, ?, ?, 0)");
    for (const p of seeded.posts) ip.run(p.id, p.userId, p.creationTime, p.imageUrl, p.storageId, p.caption, p.likes);
    const il = db.prepare("INSERT INTO likes VALUES (?, ?)");
    for (const [u, p] of seeded.likes) il.run(seeded.userIds[u], seeded.postIds[p]);
    const ib = db.prepare("INSERT INTO bookmarks VALUES (?, ?)");
    for (const [u, p] of seeded.bookmarks) ib.run(seeded.userIds[u], seeded.postIds[p]);
  })();
  const feed = db.prepare(`
    SELECT p.id AS _id, p.created AS _creationTime, p.user_id AS userId, p.image_url AS imageUrl,
           p.storage_id AS storageId, p.caption, p.likes, p.comments,
           u.id AS authorId, u.username, u.image,
           EXISTS (SELECT 1 FROM likes l WHERE l.user_id = ? AND l.post_id = p.id) AS isLiked,
           EXISTS (SELECT 1 FROM bookmarks b WHERE b.user_id = ? AND b.post_id = p.id) AS isBookmarked
    FROM posts p JOIN users u ON u.id = p.user_id
    ORDER BY p.created DESC LIMIT ${PAGE}`);
  return {
    page(viewerId: string) {
      return (feed.all(viewerId, viewerId) as Record<string, unknown>[]).map((r) => ({
        _id: r._id, _creationTime: r._creationTime, userId: r.userId, imageUrl: r.imageUrl, storageId: r.storageId,
        caption: r.caption, likes: r.likes, comments: r.comments,
        author: { _id: r.authorId, username: r.username, image: r.image },
        isLiked: r.isLiked === 1, isBookmarked: r.isBookmarked === 1,
      }));
    },
  };
}

async function serveBaseline(page: (i: number) => unknown) {
  const server = createServer((req, res) => {
    const i = Number(new URL(req.url ?? "/", "http://x").searchParams.get("i") ?? 0);
    const body = JSON.stringify({ page: page(i), isDone: false });
    res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
    res.end(body);
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/feed`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

async function latency(fn: (i: number) => Promise<unknown>, samples: number) {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    await fn(i);
    times.push(performance.now() - t0);
  }
  times.sort((x, y) => x - y);
  return { p50: times[Math.floor(samples * 0.5)]!, p99: times[Math.floor(samples * 0.99)]! };
}

async function throughput(fn: (i: number) => Promise<unknown>, total: number, concurrency: number) {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < total) await fn(next++);
  }));
  return (total / (performance.now() - t0)) * 1000;
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
