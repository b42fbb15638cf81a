import path from "node:path";
import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestEngine, type TestEngine } from "./support/test-engine";
import { liveQuery } from "./sync-support/live-query";
import { settledRuns } from "./sync-support/settled-runs";

/**
 * Full-text search (`withSearchIndex`) through the official clients: Convex's tokenizer and
 * typeahead prefix, relevance order, filter fields, `take`/`first`/`collect`/`paginate`,
 * the 1024-result cap, the backend's errors, and live results that follow the writes that
 * matter to them — and only those.
 */

type Page = { page: string[]; isDone: boolean; continueCursor: string };
const send = makeFunctionReference<"mutation", { body: string; channel: string; author?: string }, string>("messages:send");
const sendMany = makeFunctionReference<"mutation", { bodies: string[]; channel: string }, null>("messages:sendMany");
const edit = makeFunctionReference<"mutation", { id: string; body?: string; channel?: string }, null>("messages:edit");
const like = makeFunctionReference<"mutation", { id: string }, null>("messages:like");
const remove = makeFunctionReference<"mutation", { id: string }, null>("messages:remove");
const search = makeFunctionReference<"query", { text: string; channel?: string; author?: string; n?: number }, string[]>("messages:search");
const searchDocs = makeFunctionReference<"query", { text: string }, Record<string, unknown>[]>("messages:searchDocs");
const searchFirst = makeFunctionReference<"query", { text: string }, string | null>("messages:searchFirst");
const searchCount = makeFunctionReference<"query", { text: string }, number>("messages:searchCount");
const searchPopular = makeFunctionReference<"query", { text: string; minLikes: number }, string[]>("messages:searchPopular");
const searchPage = makeFunctionReference<
  "query",
  { text: string; channel?: string; paginationOpts: { numItems: number; cursor: string | null } },
  Page
>("messages:searchPage");
const sendAndFind = makeFunctionReference<"mutation", { body: string; channel: string; text: string }, string[]>("messages:sendAndFind");
const rawSearch = makeFunctionReference<"query", { build: string }, number>("messages:rawSearch");
const searchOther = makeFunctionReference<"query", { index: string }, number>("messages:searchOther");
const searchNotes = makeFunctionReference<"query", Record<string, never>, number>("messages:searchNotes");

const APP = path.resolve(__dirname, "fixtures/search/convex");
let running: TestEngine;
let http: ConvexHttpClient;
const clients: ConvexClient[] = [];

beforeAll(async () => {
  running = await startTestEngine({ appDir: APP });
  http = new ConvexHttpClient(running.engine.cloudUrl);
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await running?.close();
});

function client(): ConvexClient {
  const c = new ConvexClient(running.engine.cloudUrl, { logger: false });
  clients.push(c);
  return c;
}

const runsOf = (fn: string) => settledRuns(running.engine, fn);

describe("matching and relevance", () => {
  beforeAll(async () => {
    for (const body of ["The quick brown fox", "quick quick quick", "a slow turtle", "Quickly done", "QUICK-silver, fast"]) {
      await http.mutation(send, { body, channel: "rel" });
    }
  });

  test("terms are split on punctuation and case-folded; more and denser hits rank first, completions of the last term last", async () => {
    const found = await http.query(search, { text: "quick", channel: "rel" });
    expect(new Set(found)).toEqual(new Set(["The quick brown fox", "quick quick quick", "QUICK-silver, fast", "Quickly done"]));
    expect(found[0]).toBe("quick quick quick");
    // "Quickly" only matches as a completion of the typed prefix.
    expect(found[found.length - 1]).toBe("Quickly done");
    expect((await http.query(search, { text: "quick fox", channel: "rel" }))[0]).toBe("The quick brown fox");
  });

  test("only the last term is a prefix; a term in the middle of a word does not match", async () => {
    expect(await http.query(search, { text: "turt", channel: "rel" })).toEqual(["a slow turtle"]);
    expect(await http.query(search, { text: "urtle", channel: "rel" })).toEqual([]);
    // "qui" is not the last term, so it must match a whole term: only "fox" matches.
    expect(await http.query(search, { text: "qui fox", channel: "rel" })).toEqual(["The quick brown fox"]);
    expect(await http.query(search, { text: "FOX!", channel: "rel" })).toEqual(["The quick brown fox"]);
  });

  test("an empty search, or one without a term, matches nothing", async () => {
    expect(await http.query(search, { text: "", channel: "rel" })).toEqual([]);
    expect(await http.query(search, { text: "?!  ...", channel: "rel" })).toEqual([]);
  });

  test("terms of 32 bytes or more are not indexed, and non-Latin letters are terms too", async () => {
    const long = "a".repeat(31) + "b";
    await http.mutation(send, { body: `${long} short ünïcode 日本語`, channel: "tok" });
    expect(await http.query(search, { text: long, channel: "tok" })).toEqual([]);
    expect(await http.query(search, { text: "a".repeat(31), channel: "tok" })).toEqual([]);
    expect(await http.query(search, { text: "ÜNÏCODE", channel: "tok" })).toHaveLength(1);
    expect(await http.query(search, { text: "日本", channel: "tok" })).toHaveLength(1);
  });

  test("equal scores come newest first", async () => {
    for (const body of ["tie one", "tie two", "tie three"]) await http.mutation(send, { body, channel: "ties" });
    expect(await http.query(search, { text: "tie", channel: "ties" })).toEqual(["tie three", "tie two", "tie one"]);
  });

  test("results are the documents, without a score", async () => {
    const docs = await http.query(searchDocs, { text: "turtle" });
    expect(docs).toHaveLength(1);
    expect(Object.keys(docs[0]).sort()).toEqual(["_creationTime", "_id", "body", "channel"]);
  });
});

describe("filters, limits and pagination", () => {
  test("equality filters narrow to their values; undefined matches a missing field", async () => {
    await http.mutation(send, { body: "filter me", channel: "f1", author: "ann" });
    await http.mutation(send, { body: "filter me too", channel: "f1" });
    await http.mutation(send, { body: "filter me also", channel: "f2", author: "ann" });
    expect(new Set(await http.query(search, { text: "filter", channel: "f1" }))).toEqual(new Set(["filter me", "filter me too"]));
    expect(await http.query(search, { text: "filter", channel: "f1", author: "ann" })).toEqual(["filter me"]);
    expect(new Set(await http.query(search, { text: "filter", author: "ann" }))).toEqual(new Set(["filter me", "filter me also"]));
    expect(await http.query(search, { text: "filter", channel: "nowhere" })).toEqual([]);
  });

  test("take, first, collect and a filter after the search", async () => {
    await http.mutation(sendMany, { bodies: ["limit alpha", "limit beta", "limit gamma", "limit delta"], channel: "lim" });
    expect(await http.query(search, { text: "limit", channel: "lim", n: 2 })).toHaveLength(2);
    expect(await http.query(searchFirst, { text: "limit" })).toBe("limit delta");
    expect(await http.query(searchCount, { text: "limit" })).toBe(4);
    const ids = await http.query(searchDocs, { text: "gamma" });
    await http.mutation(like, { id: ids[0]._id as string });
    expect(await http.query(searchPopular, { text: "limit", minLikes: 1 })).toEqual(["limit gamma"]);
  });

  test("pages walk the results in relevance order without gaps or repeats", async () => {
    const bodies = Array.from({ length: 23 }, (_, i) => `page ${"word ".repeat(i % 5)}${i}`);
    await http.mutation(sendMany, { bodies, channel: "pages" });
    await http.mutation(send, { body: "page elsewhere", channel: "other" });
    const all = await http.query(search, { text: "page", channel: "pages", n: 100 });
    expect(all).toHaveLength(23);
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 10; i++) {
      const result: Page = await http.query(searchPage, { text: "page", channel: "pages", paginationOpts: { numItems: 10, cursor } });
      seen.push(...result.page);
      cursor = result.continueCursor;
      if (result.isDone) break;
    }
    expect(seen).toEqual(all);
  });

  test("a search reads at most 1024 results: collecting more fails, pages stop after the 1024th", async () => {
    const bodies = Array.from({ length: 1030 }, (_, i) => `many ${i}`);
    for (let i = 0; i < bodies.length; i += 200) await http.mutation(sendMany, { bodies: bodies.slice(i, i + 200), channel: "many" });
    await expect(http.query(searchCount, { text: "many" })).rejects.toThrow(/Search query scanned too many documents \(fetched 1024\)/);
    expect(await http.query(search, { text: "many", n: 1024 })).toHaveLength(1024);
    let total = 0;
    let cursor: string | null = null;
    for (;;) {
      const result: Page = await http.query(searchPage, { text: "many", paginationOpts: { numItems: 300, cursor } });
      total += result.page.length;
      cursor = result.continueCursor;
      if (result.isDone) break;
    }
    expect(total).toBe(1024);
  });
});

describe("errors and consistency", () => {
  test("malformed searches fail with the backend's messages", async () => {
    await expect(http.query(rawSearch, { build: "none" })).rejects.toThrow(/does not contain any search filters/);
    await expect(http.query(rawSearch, { build: "wrongField" })).rejects.toThrow(/doesn't match the indexed `searchField` "body"/);
    await expect(http.query(rawSearch, { build: "twice" })).rejects.toThrow(/multiple search filters/);
    await expect(http.query(rawSearch, { build: "notFilter" })).rejects.toThrow(/isn't indexed for filtering in `filterFields`/);
    await expect(http.query(rawSearch, { build: "tooMany" })).rejects.toThrow(/too many filter conditions. Max: 8 Actual: 9/);
    // Like the backend, an empty search string is answered before the field is checked.
    expect(await http.query(rawSearch, { build: "emptyWrongField" })).toBe(0);
  });

  test("unknown, non-search and staged indexes are refused by name", async () => {
    await expect(http.query(searchOther, { index: "nope" })).rejects.toThrow(/Index messages.nope not found/);
    await expect(http.query(searchOther, { index: "by_channel" })).rejects.toThrow(/Index messages.by_channel not found/);
    await expect(http.query(searchNotes, {})).rejects.toThrow(/Index notes.search_text is currently staged/);
  });

  test("a mutation finds what it just wrote, in the same transaction", async () => {
    expect(await http.mutation(sendAndFind, { body: "fresh xylophone", channel: "ryw", text: "xylophone" })).toEqual(["fresh xylophone"]);
  });
});

describe("live search results", () => {
  test("a subscription follows inserts, edits, likes and deletes of matching documents", async () => {
    const c = client();
    const live = liveQuery(c, search, { text: "sunset", channel: "live" });
    await live.until((v) => v.length === 0);

    const id = await c.mutation(send, { body: "Sunset over the sea", channel: "live" });
    await live.until((v) => v.length === 1);
    // A completion of the typed prefix shows up too.
    await c.mutation(send, { body: "sunsets are red", channel: "live" });
    await live.until((v) => v.length === 2);

    const runs = await runsOf("messages:search");
    await c.mutation(like, { id });
    // The result did not change, but the liked document is in it: the search ran again.
    expect(await runsOf("messages:search")).toBe(runs + 1);

    await c.mutation(edit, { id, body: "Sunrise over the sea" });
    await live.until((v) => v.length === 1 && v[0] === "sunsets are red");
    await c.mutation(edit, { id, body: "a sunset after all" });
    await live.until((v) => v.length === 2);
    await c.mutation(remove, { id });
    await live.until((v) => v.length === 1);
  });

  test("writes that cannot change the result do not re-run it", async () => {
    const c = client();
    const live = liveQuery(c, search, { text: "harbor", channel: "quiet" });
    await live.until((v) => v.length === 0);
    const runs = await runsOf("messages:search");

    await c.mutation(send, { body: "harbor lights", channel: "elsewhere" }); // other channel
    await c.mutation(send, { body: "mountain view", channel: "quiet" }); // other words
    await c.mutation(send, { body: "harbor, but loud", channel: "loud" }); // other channel again
    expect(await runsOf("messages:search")).toBe(runs);

    await c.mutation(send, { body: "Harbor at night", channel: "quiet" });
    await live.until((v) => v.length === 1);
  });

  test("a paginated search subscription grows with a new match", async () => {
    const c = client();
    const live = liveQuery(c, searchPage, { text: "lantern", paginationOpts: { numItems: 5, cursor: null } });
    await live.until((v) => v.page.length === 0 && v.isDone);
    await c.mutation(sendMany, { bodies: ["lantern one", "lantern two"], channel: "lanterns" });
    await live.until((v) => v.page.length === 2);
  });
});

describe("hostile input", () => {
  test("FTS5 query syntax in a search text is plain text", async () => {
    await http.mutation(send, { body: "near the OR gate", channel: "syntax" });
    for (const text of ['"near', "NEAR(the gate)", "gate*", "body: gate", "gate AND NOT near", "^gate", "(((gate"]) {
      expect(await http.query(search, { text, channel: "syntax" })).toEqual(["near the OR gate"]);
    }
  });

  test("a search text of a million terms counts only its first 16", async () => {
    const text = `${"zebra ".repeat(16)}${"needle ".repeat(1_000_000)}`;
    await http.mutation(send, { body: "needle in a haystack", channel: "huge" });
    expect(await http.query(search, { text, channel: "huge" })).toEqual([]);
    expect(await http.query(search, { text: `${"zebra ".repeat(15)}needle`, channel: "huge" })).toEqual(["needle in a haystack"]);
  });
});
