import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { afterAll, beforeAll, expect, test } from "vitest";
import { bundleApp } from "../src/runtime/app-bundler";
import { startTestEngine, type TestEngine } from "./support/test-engine";

/**
 * Search and vector indexes follow the schema like database indexes do: added over
 * existing documents (backfilled), dropped with their entries, rebuilt when redefined or
 * un-staged, and kept across a restart. The app is a copy of `fixtures/search` whose
 * schema.ts the test swaps with `fixtures/search-plain`'s (same tables, no such indexes).
 */

const search = makeFunctionReference<"query", { text: string; channel?: string }, string[]>("messages:search");
const send = makeFunctionReference<"mutation", { body: string; channel: string }, string>("messages:send");
const searchNotes = makeFunctionReference<"query", Record<string, never>, number>("messages:searchNotes");
const addFood = makeFunctionReference<"mutation", { description: string; cuisine: string; embedding: number[] }, string>("foods:add");
const similar = makeFunctionReference<"action", { vector: number[] }, { _id: string; _score: number }[]>("foods:similar");

const FIXTURES = path.resolve(__dirname, "fixtures");
const FULL_SCHEMA = readFileSync(path.join(FIXTURES, "search/convex/schema.ts"), "utf8");
const PLAIN_SCHEMA = readFileSync(path.join(FIXTURES, "search-plain/convex/schema.ts"), "utf8");
let appDir: string;
let dataDir: string;
let running: TestEngine;
let http: ConvexHttpClient;

beforeAll(async () => {
  appDir = mkdtempSync(path.join(tmpdir(), "search-schema-app-"));
  dataDir = mkdtempSync(path.join(tmpdir(), "search-schema-data-"));
  cpSync(path.join(FIXTURES, "search/convex"), appDir, { recursive: true });
  writeFileSync(path.join(appDir, "schema.ts"), PLAIN_SCHEMA);
  running = await startTestEngine({ appDir, dataDir, bundle: await bundleApp(appDir) });
  http = new ConvexHttpClient(running.engine.cloudUrl);
});
afterAll(async () => {
  await running?.close();
  rmSync(appDir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

async function pushSchema(text: string): Promise<void> {
  writeFileSync(path.join(appDir, "schema.ts"), text);
  await running.engine.reload(await bundleApp(appDir));
}

/** The SQLite tables that hold search and vector entries, read through a second connection. */
function indexTables(): string[] {
  const db = new Database(path.join(dataDir, "db.sqlite3"), { readonly: true });
  try {
    return db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND (name LIKE 'text\\_%' ESCAPE '\\' OR name LIKE 'vector\\_index\\_%' ESCAPE '\\')")
      .pluck()
      .all() as string[];
  } finally {
    db.close();
  }
}

test("indexes are built over existing documents, dropped, rebuilt and un-staged with the schema", async () => {
  await http.mutation(send, { body: "existing lighthouse", channel: "a" });
  await http.mutation(addFood, { description: "soup", cuisine: "any", embedding: [0, 1, 0, 0] });
  await expect(http.query(search, { text: "lighthouse" })).rejects.toThrow(/Index messages.search_body not found/);
  expect(indexTables()).toEqual([]);

  await pushSchema(FULL_SCHEMA);
  expect(await http.query(search, { text: "lighthouse" })).toEqual(["existing lighthouse"]);
  expect(await http.action(similar, { vector: [0, 1, 0, 0] })).toEqual([{ _id: expect.any(String), _score: expect.closeTo(1, 6) }]);
  // One text index (its FTS5 table, shadow tables and row table) and one vector index; staged ones have none.
  expect(indexTables().filter((name) => /^(text_index|text_rows|vector_index)_\d+$/.test(name))).toHaveLength(3);

  await pushSchema(PLAIN_SCHEMA);
  await expect(http.query(search, { text: "lighthouse" })).rejects.toThrow(/Index messages.search_body not found/);
  await expect(http.action(similar, { vector: [0, 1, 0, 0] })).rejects.toThrow(/Index foods.by_embedding not found/);
  expect(indexTables()).toEqual([]);

  // Written while the index did not exist: found once it is built again.
  await http.mutation(send, { body: "another lighthouse", channel: "a" });
  await pushSchema(FULL_SCHEMA.replace('searchIndex("search_text", { searchField: "text", staged: true })', 'searchIndex("search_text", { searchField: "text" })'));
  expect(new Set(await http.query(search, { text: "lighthouse" }))).toEqual(new Set(["existing lighthouse", "another lighthouse"]));
  expect(await http.query(searchNotes, {})).toBe(0);

  // A redefined index (another filter field list) is rebuilt: equality on the dropped field is now refused.
  await pushSchema(FULL_SCHEMA.replace('filterFields: ["channel", "author"]', 'filterFields: ["author"]'));
  await expect(http.query(search, { text: "lighthouse", channel: "a" })).rejects.toThrow(/isn't indexed for filtering/);
  expect(await http.query(search, { text: "lighthouse" })).toHaveLength(2);
});

test("indexes and their entries survive a restart", async () => {
  await pushSchema(FULL_SCHEMA);
  await http.mutation(send, { body: "persistent beacon", channel: "b" });
  await running.close();
  running = await startTestEngine({ appDir, dataDir, bundle: await bundleApp(appDir) });
  http = new ConvexHttpClient(running.engine.cloudUrl);
  expect(await http.query(search, { text: "beacon", channel: "b" })).toEqual(["persistent beacon"]);
  expect(await http.action(similar, { vector: [0, 1, 0, 0] })).toHaveLength(1);
});
