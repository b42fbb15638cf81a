import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";
import { describe, expect, test } from "vitest";
import { isEngineError, type EngineError } from "../src/errors";
import { encodeDocumentId } from "../src/values/document-id";
import { MIN_KEY } from "../src/values/index-key-codec";
import { schemaExport } from "./helpers/convex-json";
import { inTransaction, openTestStore } from "./helpers/temp-store";

const posts = { caption: v.string(), authorId: v.id("users"), draft: v.optional(v.boolean()) };
const schemaV1 = defineSchema({
  users: defineTable({ name: v.string() }),
  posts: defineTable(posts).index("by_author", ["authorId"]),
});

function thrown(run: () => unknown): EngineError {
  try {
    run();
  } catch (e) {
    if (isEngineError(e)) return e;
    throw e;
  }
  throw new Error("expected an EngineError");
}

describe("schema validation of writes", () => {
  test("a write that does not match the schema is refused with Convex's message", () => {
    const { store } = openTestStore();
    store.applySchema(schemaExport(schemaV1));
    store.begin();
    const ada = store.insert("users", { name: "ada" });
    store.insert("posts", { caption: "hi", authorId: ada });
    const missing = thrown(() => store.insert("users", { nick: "a" }));
    expect(missing.code).toBe("DocumentDoesNotMatchSchema");
    expect(missing.message).toMatch(
      /^Failed to insert or update a document in table "users" because it does not match the schema: Object is missing the required field `name`/,
    );
    // v.id("users") rejects an id of another table.
    const wrongId = thrown(() => store.insert("posts", { caption: "x", authorId: store.insert("posts", { caption: "y", authorId: ada }) }));
    expect(wrongId.message).toContain("from table `posts`, which does not match the table name in validator `v.id(\"users\")`");
    const replaced = thrown(() => store.replace(ada, { name: 5 }));
    expect(replaced.message).toContain("Path: .name");
    // Tables the schema does not mention are not validated.
    store.insert("scratch", { anything: [1n, "x"] });
    store.commit();
  });

  test("ids of system tables validate before the engine has created those tables", () => {
    const { store } = openTestStore();
    store.applySchema(schemaExport(defineSchema({ files: defineTable({ storageId: v.id("_storage") }) })));
    store.begin();
    store.insert("files", { storageId: encodeDocumentId(540, new Uint8Array(16).fill(1)) });
    const wrong = thrown(() => store.insert("files", { storageId: encodeDocumentId(539, new Uint8Array(16).fill(1)) }));
    expect(wrong.message).toContain("from a system table");
    store.rollback();
  });

  test("schemaValidation: false switches write validation off", () => {
    const { store } = openTestStore();
    const loose = defineSchema({ users: defineTable({ name: v.string() }) }, { schemaValidation: false });
    store.applySchema(schemaExport(loose));
    inTransaction(store, () => store.insert("users", { nick: 1 }));
    expect(store.count("users")).toBe(1);
  });

  test("the applied schema, and so write validation, survives a reopen", () => {
    const first = openTestStore();
    first.store.applySchema(schemaExport(schemaV1));
    first.store.close();
    const { store } = openTestStore({ path: first.path });
    expect(store.schema()?.tables.map((t) => t.tableName)).toEqual(["users", "posts"]);
    store.begin();
    expect(thrown(() => store.insert("users", {})).code).toBe("DocumentDoesNotMatchSchema");
    store.rollback();
  });
});

describe("schema changes", () => {
  test("creates the schema's tables and builds new indexes over existing documents", () => {
    const { store } = openTestStore();
    const [ada, bob] = inTransaction(store, () => [store.insert("users", { name: "ada" }), store.insert("users", { name: "bob" })]);
    inTransaction(store, () => {
      store.insert("posts", { caption: "1", authorId: bob });
      store.insert("posts", { caption: "2", authorId: ada });
    });
    const change = store.applySchema(schemaExport(schemaV1));
    expect(change.createdTables).toEqual([]);
    expect(change.addedIndexes).toEqual(["posts.by_author"]);
    expect(change.ts).toBe(store.lastCommitTs());
    const rows = store.scan("posts.by_author", { lo: MIN_KEY, hi: null }, "asc", 10);
    expect(rows.map((r) => JSON.parse(r.text).caption)).toEqual(ada < bob ? ["2", "1"] : ["1", "2"]);
    // Later writes maintain the new index.
    inTransaction(store, () => store.insert("posts", { caption: "3", authorId: ada }));
    expect(store.scan("posts.by_author", { lo: MIN_KEY, hi: null }, "asc", 10)).toHaveLength(3);
    expect(store.listIndexes("posts").map((i) => i.fields)).toEqual([
      ["_id"],
      ["_creationTime", "_id"],
      ["authorId", "_creationTime", "_id"],
    ]);
  });

  test("creates missing tables in schema order and applies an unchanged schema as a no-op", () => {
    const { store } = openTestStore();
    const change = store.applySchema(schemaExport(schemaV1));
    expect(change.createdTables).toEqual(["users", "posts"]);
    expect(store.tableNumber("users")).toBe(10001);
    expect(store.tableNumber("posts")).toBe(10002);
    const again = store.applySchema(schemaExport(schemaV1));
    expect(again).toEqual({ ts: change.ts, createdTables: [], addedIndexes: [], droppedIndexes: [] });
  });

  test("drops removed indexes and rebuilds an index whose fields changed", () => {
    const { store } = openTestStore();
    store.applySchema(schemaExport(schemaV1));
    const ada = inTransaction(store, () => store.insert("users", { name: "ada" }));
    inTransaction(store, () => store.insert("posts", { caption: "c", authorId: ada }));
    const v2 = defineSchema({
      users: defineTable({ name: v.string() }).index("by_name", ["name"]),
      posts: defineTable(posts).index("by_author", ["authorId", "draft"]),
    });
    const change = store.applySchema(schemaExport(v2));
    expect(change.droppedIndexes).toEqual(["posts.by_author"]);
    expect(change.addedIndexes.sort()).toEqual(["posts.by_author", "users.by_name"]);
    expect(store.resolveIndex("posts.by_author")?.fields).toEqual(["authorId", "draft", "_creationTime", "_id"]);
    expect(store.scan("posts.by_author", { lo: MIN_KEY, hi: null }, "asc", 10)).toHaveLength(1);

    const none = store.applySchema(null);
    expect(none.droppedIndexes.sort()).toEqual(["posts.by_author", "users.by_name"]);
    expect(store.resolveIndex("users.by_name")).toBeNull();
    // Built-in indexes and data stay.
    expect(store.count("posts")).toBe(1);
    expect(store.resolveIndex("posts.by_creation_time")).not.toBeNull();
  });

  test("a push whose existing documents do not match is refused with their count and the first one, and changes nothing", () => {
    const { store } = openTestStore();
    const [ada, bad1, bad2] = inTransaction(store, () => [
      store.insert("users", { name: "ada" }),
      store.insert("users", { name: 7 }),
      store.insert("users", { name: "eve", role: "admin" }),
    ]);
    const tsBefore = store.lastCommitTs();
    const error = thrown(() => store.applySchema(schemaExport(schemaV1)));
    expect(error.code).toBe("SchemaValidationFailed");
    expect(error.message).toMatch(/^Schema validation failed: 2 documents in table "users" do not match the schema\.\n/);
    // Ids are random, so either bad document may come first (they are visited in id order).
    expect([
      `First: Document with ID "${bad1}" in table "users" does not match the schema: Value does not match validator.\nPath: .name\nValidator: v.string()\nDocument: {_id: "${bad1}", `,
      `First: Document with ID "${bad2}" in table "users" does not match the schema: Object contains extra field \`role\` that is not in the validator.\nValidator: v.object({name: v.string()})\nDocument: {_id: "${bad2}", `,
    ].some((first) => error.message.includes(first)), error.message).toBe(true);
    expect(error.message).toMatch(/\nTo fix: make schema\.ts accept these documents/);
    expect(error.message).not.toContain(ada);
    expect(store.schema()).toBeNull();
    expect(store.tableNumber("posts")).toBeNull();
    expect(store.resolveIndex("posts.by_author")).toBeNull();
    expect(store.lastCommitTs()).toBe(tsBefore);
    // Writes are still unvalidated, as before the refused push.
    inTransaction(store, () => store.insert("users", { whatever: true }));
  });

  test("malformed schemas are refused before anything happens", () => {
    const { store } = openTestStore();
    expect(thrown(() => store.applySchema("{not json")).code).toBe("InvalidSchema");
    const reserved = { tables: [{ tableName: "t", indexes: [{ indexDescriptor: "by_id", fields: ["a"] }] }], schemaValidation: true };
    expect(thrown(() => store.applySchema(JSON.stringify(reserved))).code).toBe("InvalidSchema");
    store.begin();
    expect(thrown(() => store.applySchema(schemaExport(schemaV1))).code).toBe("TransactionOpen");
    store.rollback();
  });
});
