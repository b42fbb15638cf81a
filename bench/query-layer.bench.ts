/**
 * Benchmark: one feed page — 20 newest posts, each with its author, isLiked and
 * isBookmarked for the viewer — through the engine's store + query layer, against the
 * same reads as hand-written SQL on plain tables. Fixed seed and sizes; prints a table.
 * Not part of the test suite: `npm run bench -- query-layer`.
 */
import Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readDocument } from "../packages/engine/src/query/document-reads";
import { paginateQuery } from "../packages/engine/src/query/paginate";
import { openQueryStream } from "../packages/engine/src/query/query-stream";
import { createReadSetRecorder } from "../packages/engine/src/query/read-set";
import type { SerializedQuery } from "../packages/engine/src/query/serialized-query";
import { createSqliteStore } from "../packages/engine/src/store/sqlite-store";
import { createSeededRandom } from "../packages/engine/test/helpers/seeded-random";

const USERS = 1_000;
const POSTS = 10_000;
const LIKES = 50_000;
const BOOKMARKS = 10_000;
const PAGE = 20;
const ROUNDS = 2_000;

const dir = mkdtempSync(join(tmpdir(), "feed-bench-"));
const random = createSeededRandom(2026);
let clock = Date.UTC(2026, 0, 1);
const store = createSqliteStore({ path: join(dir, "engine.sqlite3"), now: () => clock, randomBytes: random.bytes });
const raw = new Database(join(dir, "raw.sqlite3"));
raw.pragma("journal_mode = WAL");
raw.exec(`
  CREATE TABLE users (id TEXT PRIMARY KEY, name TEXT, avatar TEXT);
  CREATE TABLE posts (id TEXT PRIMARY KEY, creation_time REAL, author_id TEXT, caption TEXT, image TEXT);
  CREATE INDEX posts_by_time ON posts (creation_time, id);
  CREATE TABLE likes (id TEXT PRIMARY KEY, user_id TEXT, post_id TEXT);
  CREATE INDEX likes_by_user_post ON likes (user_id, post_id);
  CREATE TABLE bookmarks (id TEXT PRIMARY KEY, user_id TEXT, post_id TEXT);
  CREATE INDEX bookmarks_by_user_post ON bookmarks (user_id, post_id);
`);

store.applySchema(
  JSON.stringify({
    tables: [
      { tableName: "users", indexes: [] },
      { tableName: "posts", indexes: [] },
      { tableName: "likes", indexes: [{ indexDescriptor: "by_user_post", fields: ["userId", "postId"] }] },
      { tableName: "bookmarks", indexes: [{ indexDescriptor: "by_user_post", fields: ["userId", "postId"] }] },
    ],
    schemaValidation: false,
  }),
);

store.begin();
raw.exec("BEGIN");
const users: string[] = [];
for (let i = 0; i < USERS; i++) {
  const id = store.insert("users", { name: `user ${i}`, avatar: `https://img/${i}.jpg` });
  raw.prepare("INSERT INTO users VALUES (?, ?, ?)").run(id, `user ${i}`, `https://img/${i}.jpg`);
  users.push(id);
}
const posts: string[] = [];
for (let i = 0; i < POSTS; i++) {
  clock += 1000;
  const fields = { authorId: random.pick(users), caption: `caption ${i} `.repeat(4), image: `https://img/p${i}.jpg` };
  const id = store.insert("posts", fields);
  const doc = JSON.parse(store.get(id)!);
  raw.prepare("INSERT INTO posts VALUES (?, ?, ?, ?, ?)").run(id, doc._creationTime, fields.authorId, fields.caption, fields.image);
  posts.push(id);
}
const recent = posts.slice(-200);
const viewer = users[0];
for (const [table, count] of [["likes", LIKES], ["bookmarks", BOOKMARKS]] as const) {
  for (let i = 0; i < count; i++) {
    // The viewer reacts to a third of the recent posts, so lookups both hit and miss.
    const userId = i % 10 === 0 ? viewer : random.pick(users);
    const postId = i % 10 === 0 && random.int(3) === 0 ? random.pick(recent) : random.pick(posts);
    const id = store.insert(table, { userId, postId });
    raw.prepare(`INSERT INTO ${table} VALUES (?, ?, ?)`).run(id, userId, postId);
  }
}
store.commit();
raw.exec("COMMIT");

// A second store on the same file with the document cache off, to show what the cache buys.
const uncached = createSqliteStore({ path: join(dir, "engine.sqlite3"), now: () => clock, randomBytes: random.bytes, documentCacheSize: 0 });

const feed: SerializedQuery = { source: { type: "FullTableScan", tableName: "posts", order: "desc" }, operators: [] };
const exists = (table: string, postId: string, on = store): boolean => {
  const query: SerializedQuery = {
    source: {
      type: "IndexRange",
      indexName: `${table}.by_user_post`,
      range: [
        { type: "Eq", fieldPath: "userId", value: viewer },
        { type: "Eq", fieldPath: "postId", value: postId },
      ],
      order: null,
    },
    operators: [{ limit: 1 }],
  };
  const stream = openQueryStream(on, query, recorder);
  const found = stream.next() !== null;
  stream.close();
  return found;
};
let recorder = createReadSetRecorder();

function enginePage(on = store) {
  recorder = createReadSetRecorder();
  const { page } = paginateQuery(on, feed, { cursor: null, endCursor: null, pageSize: PAGE }, recorder);
  return page.map((text) => {
    const post = JSON.parse(text);
    const author = JSON.parse(readDocument(on, post.authorId, recorder)!);
    return { ...post, author, isLiked: exists("likes", post._id, on), isBookmarked: exists("bookmarks", post._id, on) };
  });
}

const pageSql = raw.prepare(`SELECT * FROM posts ORDER BY creation_time DESC, id DESC LIMIT ${PAGE}`);
const userSql = raw.prepare("SELECT * FROM users WHERE id = ?");
const likeSql = raw.prepare("SELECT 1 FROM likes WHERE user_id = ? AND post_id = ? LIMIT 1").pluck();
const bookmarkSql = raw.prepare("SELECT 1 FROM bookmarks WHERE user_id = ? AND post_id = ? LIMIT 1").pluck();
function sqlPage() {
  return (pageSql.all() as Record<string, unknown>[]).map((post) => ({
    ...post,
    author: userSql.get(post.author_id),
    isLiked: likeSql.get(viewer, post.id) !== undefined,
    isBookmarked: bookmarkSql.get(viewer, post.id) !== undefined,
  }));
}

/** Median µs per call over batches that alternate between the variants (the machine is shared). */
function timeInterleaved(variants: (() => unknown)[]): number[] {
  const BATCHES = 20;
  const perBatch = ROUNDS / BATCHES;
  for (const run of variants) for (let i = 0; i < 200; i++) run();
  const samples = variants.map((): number[] => []);
  for (let b = 0; b < BATCHES; b++) {
    variants.forEach((run, v) => {
      const start = process.hrtime.bigint();
      for (let i = 0; i < perBatch; i++) run();
      samples[v].push(Number(process.hrtime.bigint() - start) / 1e3 / perBatch);
    });
  }
  return samples.map((list) => list.sort((a, b) => a - b)[Math.floor(list.length / 2)]);
}

const engineFlags = enginePage().map((p) => [p.isLiked, p.isBookmarked]);
const sqlFlags = sqlPage().map((p) => [p.isLiked, p.isBookmarked]);
if (JSON.stringify(engineFlags) !== JSON.stringify(sqlFlags)) throw new Error("engine and SQL disagree");
const [sqlUs, engineUs, uncachedUs] = timeInterleaved([sqlPage, () => enginePage(store), () => enginePage(uncached)]);
console.table([
  { variant: "hand-written SQL", "µs per page": sqlUs.toFixed(1), ratio: "1.00" },
  { variant: "engine store + query", "µs per page": engineUs.toFixed(1), ratio: (engineUs / sqlUs).toFixed(2) },
  { variant: "… document cache off", "µs per page": uncachedUs.toFixed(1), ratio: (uncachedUs / sqlUs).toFixed(2) },
]);
uncached.close();
store.close();
raw.close();
rmSync(dir, { recursive: true, force: true });
