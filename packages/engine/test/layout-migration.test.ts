import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";
import { describe, expect, test } from "vitest";
import { isEngineError } from "../src/errors";
import { layoutBackupPath } from "../src/store/layout-migration";
import { LAYOUT_VERSION } from "../src/store/sqlite-layout";
import type { Store } from "../src/store/store";
import { MIN_KEY } from "../src/values/index-key-codec";
import { schemaExport } from "./helpers/convex-json";
import { downgradeToLayout1 } from "./helpers/layout-1-file";
import { createSeededRandom } from "./helpers/seeded-random";
import { inTransaction, openTestStore } from "./helpers/temp-store";
import { quietLogger, startTestEngine } from "./support/test-engine";

const BASIC_APP = fileURLToPath(new URL("fixtures/basic/convex", import.meta.url));
const send = makeFunctionReference<"mutation", { author: string; body: string }, string>("messages:send");
const list = makeFunctionReference<"query", Record<string, never>, { _id: string; body: string }[]>("messages:list");
const get = makeFunctionReference<"query", { id: string }, { _id: string; body: string } | null>("messages:get");
const like = makeFunctionReference<"mutation", { id: string }, number>("messages:like");

const schema = defineSchema({
  users: defineTable({ name: v.string() }).index("by_name", ["name"]),
  posts: defineTable({ authorId: v.id("users"), caption: v.string(), likes: v.number() })
    .index("by_author", ["authorId"])
    .searchIndex("search_caption", { searchField: "caption", filterFields: ["authorId"] }),
  likes: defineTable({ userId: v.id("users"), postId: v.id("posts") }).index("by_user_and_post", ["userId", "postId"]),
});

/** Fills a store with users, posts and likes, then updates and deletes some, as an app would. */
function populate(store: Store): void {
  const random = createSeededRandom(9);
  store.applySchema(schemaExport(schema));
  inTransaction(store, () => {
    const users = Array.from({ length: 30 }, (_, i) => store.insert("users", { name: `user ${i % 7}` }));
    const posts = Array.from({ length: 120 }, (_, i) =>
      store.insert("posts", { authorId: users[i % users.length]!, caption: `sunset number ${i} at the beach`, likes: 0 }),
    );
    for (let i = 0; i < 400; i++) {
      store.insert("likes", { userId: users[random.int(users.length)]!, postId: posts[random.int(posts.length)]! });
    }
    for (const post of posts.slice(0, 40)) store.replace(post, { ...JSON.parse(store.get(post)!), _id: undefined, _creationTime: undefined, likes: 3, caption: "edited sunrise" });
    for (const post of posts.slice(100)) store.delete(post);
    store.insert("scratch", { anything: [1n, "x"] });
  });
}

/** Everything a reader can see: every index's entries in order with their documents, every id, counts, search hits. */
function everything(store: Store) {
  store.beginRead();
  try {
    const tables = store.listTables().map((t) => t.name).sort();
    const indexes = Object.fromEntries(
      tables.flatMap((table) =>
        store.listIndexes(table).map((index) => [
          `${table}.${index.name}`,
          store.scan(index.name, { lo: MIN_KEY, hi: null }, "asc", 1_000_000).map((row) => [Buffer.from(row.key).toString("hex"), row.text]),
        ]),
      ),
    );
    const ids = tables.flatMap((table) => store.scan(`${table}.by_id`, { lo: MIN_KEY, hi: null }, "asc", 1_000_000).map((row) => JSON.parse(row.text)._id as string));
    const documents = Object.fromEntries(ids.map((id) => [id, store.get(id)]));
    const counts = Object.fromEntries(tables.map((table) => [table, store.count(table)]));
    const search = store.textSearch("posts.search_caption", { terms: [{ token: "sunset", prefix: false }], filters: [] }).map((c) => c.id).sort();
    return { tables, indexes, ids, documents, counts, search };
  } finally {
    store.endRead();
  }
}

function documentColumns(path: string): string[] {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare("PRAGMA table_info(documents)").all() as { name: string }[]).map((c) => c.name);
  } finally {
    db.close();
  }
}

function layoutOf(path: string): string {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare("SELECT value FROM store_state WHERE key = 'layout_version'").pluck().get() as string;
  } finally {
    db.close();
  }
}

describe("converting a layout-1 data file on open", () => {
  test("every document, index entry, id, count and search hit is the same after the conversion, and the old file is kept", () => {
    const { store, path } = openTestStore();
    populate(store);
    const before = everything(store);
    expect(before.ids.length).toBe(30 + 100 + 400 + 1);
    store.close();
    downgradeToLayout1(path);
    expect(documentColumns(path)).toContain("id");

    const notices: string[] = [];
    // Another seed than the first open's: the same seed and clock would mint the same ids again.
    const reopened = openTestStore({ path, notice: (m) => notices.push(m), randomBytes: createSeededRandom(77).bytes }).store;
    expect(notices[0]).toContain(`from store layout 1 to ${LAYOUT_VERSION}`);
    expect(notices[0]).toContain(layoutBackupPath(path, "1"));
    expect(notices[1]).toMatch(/^Converted .* to store layout 2 in \d+ ms\.$/);
    expect(everything(reopened)).toEqual(before);
    expect(documentColumns(path)).not.toContain("id");
    expect(layoutOf(path)).toBe("2");

    // Writes go on as before: a new document is found by id and scanned in its indexes.
    const added = inTransaction(reopened, () => reopened.insert("users", { name: "after" }));
    expect(JSON.parse(reopened.get(added)!).name).toBe("after");
    reopened.close();

    // The copy is the untouched layout-1 file, and a second open converts nothing.
    const backup = layoutBackupPath(path, "1");
    expect(existsSync(backup)).toBe(true);
    expect(statSync(backup).mode & 0o777).toBe(0o600);
    expect(layoutOf(backup)).toBe("1");
    expect(documentColumns(backup)).toContain("id");
    const again: string[] = [];
    const third = openTestStore({ path, notice: (m) => again.push(m) }).store;
    expect(again).toEqual([]);
    expect(third.count("users")).toBe(31);
    third.close();
  });

  test("a file whose by_id entries do not match its documents is refused with a clear error and left exactly as it was", () => {
    const { store, path } = openTestStore();
    populate(store);
    store.close();
    downgradeToLayout1(path);
    const broken = new Database(path);
    const likesById = "(SELECT id FROM indexes WHERE name = 'likes.by_id')";
    broken.prepare(`DELETE FROM index_entries WHERE index_id = ${likesById} AND key = (SELECT key FROM index_entries WHERE index_id = ${likesById} LIMIT 1)`).run();
    const documents = broken.prepare("SELECT count(*) FROM documents").pluck().get();
    broken.close();

    let error: unknown;
    try {
      openTestStore({ path, notice: () => {} });
    } catch (e) {
      error = e;
    }
    expect(isEngineError(error, "LayoutMigrationFailed")).toBe(true);
    expect((error as Error).message).toMatch(/from store layout 1 to 2 failed, and nothing was changed: the file holds 531 documents but 530 by_id entries/);
    expect(layoutOf(path)).toBe("1");
    expect(documentColumns(path)).toContain("id");
    const after = new Database(path, { readonly: true });
    expect(after.prepare("SELECT count(*) FROM documents").pluck().get()).toBe(documents);
    after.close();
  });

  test("a file of a newer layout is refused, not converted", () => {
    const { store, path } = openTestStore();
    store.close();
    const db = new Database(path);
    db.prepare("UPDATE store_state SET value = '99' WHERE key = 'layout_version'").run();
    db.close();
    let error: unknown;
    try {
      openTestStore({ path });
    } catch (e) {
      error = e;
    }
    expect(isEngineError(error, "UnsupportedLayout")).toBe(true);
    expect((error as Error).message).toContain("has store layout 99; this engine reads layout 2");
  });

  test("an engine started on a layout-1 data folder converts it, says so, and serves the same documents from its writer and query workers", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "layout-1-folder-"));
    try {
      const first = await startTestEngine({ appDir: BASIC_APP, dataDir });
      const http = new ConvexHttpClient(first.engine.cloudUrl, { logger: false });
      for (let i = 0; i < 20; i++) await http.mutation(send, { author: "a", body: `message ${i}` });
      const before = await http.query(list, {});
      await first.close();
      downgradeToLayout1(join(dataDir, "db.sqlite3"));

      const infos: string[] = [];
      const logger = { ...quietLogger(), info: (m: string) => infos.push(m) };
      const second = await startTestEngine({ appDir: BASIC_APP, dataDir, logger });
      try {
        expect(infos.some((m) => m.includes("from store layout 1 to 2 (once)"))).toBe(true);
        const again = new ConvexHttpClient(second.engine.cloudUrl, { logger: false });
        expect(await again.query(list, {})).toEqual(before);
        // By id: on a query worker's connection, and on the writer's (a patch loads it first).
        for (const message of before) expect(await again.query(get, { id: message._id })).toEqual(message);
        expect(await again.mutation(like, { id: before[3]!._id })).toBe(1);
        await again.mutation(send, { author: "a", body: "after the upgrade" });
        expect((await again.query(list, {})).map((m) => m.body)).toContain("after the upgrade");
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
