import path from "node:path";
import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestEngine, type TestEngine } from "./support/test-engine";

/**
 * `ctx.vectorSearch` through the official HTTP client: cosine scores in score order,
 * `limit` (default 10, at most 256), `eq`/`or` filters on the index's filter fields,
 * Convex's argument errors, and results that follow the latest writes.
 */

type Match = { _id: string; _score: number };
type SimilarArgs = { vector: unknown; limit?: unknown; cuisines?: string[]; rating?: number; filterOn?: string };
const add = makeFunctionReference<"mutation", { description: string; cuisine: string; rating?: number; embedding: number[] }, string>("foods:add");
const remove = makeFunctionReference<"mutation", { id: string }, null>("foods:remove");
const descriptions = makeFunctionReference<"query", { ids: string[] }, (string | null)[]>("foods:descriptions");
const similar = makeFunctionReference<"action", SimilarArgs, Match[]>("foods:similar");
const similarIn = makeFunctionReference<"action", { table: string; index: string }, Match[]>("foods:similarIn");

const APP = path.resolve(__dirname, "fixtures/search/convex");
let running: TestEngine;
let http: ConvexHttpClient;
const ids = new Map<string, string>();

beforeAll(async () => {
  running = await startTestEngine({ appDir: APP });
  http = new ConvexHttpClient(running.engine.cloudUrl);
  const foods: [string, string, number, number[]][] = [
    ["croissant", "french", 4, [1, 0, 0, 0]],
    ["baguette", "french", 5, [0.9, 0.1, 0, 0]],
    ["rendang", "indonesian", 5, [0, 1, 0, 0]],
    ["satay", "indonesian", 3, [0.1, 0.9, 0.1, 0]],
    ["sushi", "japanese", 5, [0, 0, 1, 0]],
    ["ramen", "japanese", 4, [0, 0.2, 0.9, 0.1]],
    ["taco", "mexican", 4, [0, 0, 0, 1]],
    ["opposite", "none", 1, [-1, 0, 0, 0]],
  ];
  for (const [description, cuisine, rating, embedding] of foods) {
    ids.set(description, await http.mutation(add, { description, cuisine, rating, embedding }));
  }
  // Not indexed: wrong length, like in Convex.
  await http.mutation(add, { description: "too short", cuisine: "french", embedding: [1, 0, 0] });
  // Fill up to more than the default limit of 10.
  for (let i = 0; i < 5; i++) await http.mutation(add, { description: `filler ${i}`, cuisine: "filler", embedding: [0, 0, 0.5, 0.5 + i] });
});
afterAll(async () => {
  await running?.close();
});

async function names(matches: Match[]): Promise<(string | null)[]> {
  return http.query(descriptions, { ids: matches.map((m) => m._id) });
}

describe("similarity", () => {
  test("results are {_id, _score} by descending cosine similarity, 10 by default", async () => {
    const results = await http.action(similar, { vector: [2, 0, 0, 0] });
    expect(results).toHaveLength(10);
    for (const r of results) expect(Object.keys(r).sort()).toEqual(["_id", "_score"]);
    expect((await names(results)).slice(0, 2)).toEqual(["croissant", "baguette"]);
    expect(results[0]._score).toBeCloseTo(1, 6);
    expect(results[1]._score).toBeCloseTo(0.9 / Math.hypot(0.9, 0.1), 6);
    for (let i = 1; i < results.length; i++) expect(results[i]._score).toBeLessThanOrEqual(results[i - 1]._score);
    const all = await http.action(similar, { vector: [2, 0, 0, 0], limit: 256 });
    expect(all).toHaveLength(13); // every indexed food; "too short" is not indexed
    expect(all[all.length - 1]).toEqual({ _id: ids.get("opposite"), _score: expect.closeTo(-1, 6) });
  });

  test("limit takes the best n", async () => {
    expect(await names(await http.action(similar, { vector: [0, 0, 1, 0], limit: 2 }))).toEqual(["sushi", "ramen"]);
    expect(await http.action(similar, { vector: [0, 0, 1, 0], limit: 1 })).toHaveLength(1);
  });

  test("filters: one value, an or of values, an or across fields", async () => {
    const french = await http.action(similar, { vector: [0, 1, 0, 0], cuisines: ["french"] });
    expect(new Set(await names(french))).toEqual(new Set(["croissant", "baguette"]));
    const twoCuisines = await http.action(similar, { vector: [0, 1, 0, 0], cuisines: ["french", "indonesian"], limit: 3 });
    expect(await names(twoCuisines)).toEqual(["rendang", "satay", "baguette"]);
    // cuisine == "japanese" OR rating == 3
    const either = await http.action(similar, { vector: [1, 0, 0, 0], cuisines: ["japanese"], rating: 3 });
    expect(new Set(await names(either))).toEqual(new Set(["sushi", "ramen", "satay"]));
    expect(await http.action(similar, { vector: [1, 0, 0, 0], cuisines: ["martian"] })).toEqual([]);
  });

  test("results follow the latest writes", async () => {
    const id = await http.mutation(add, { description: "new croissant", cuisine: "french", embedding: [1, 0.01, 0, 0] });
    expect((await http.action(similar, { vector: [1, 0, 0, 0], limit: 2 })).map((r) => r._id)).toContain(id);
    await http.mutation(remove, { id });
    expect((await http.action(similar, { vector: [1, 0, 0, 0], limit: 20 })).map((r) => r._id)).not.toContain(id);
  });
});

describe("argument checks", () => {
  test("limits outside 1..256 and non-integers are refused", async () => {
    await expect(http.action(similar, { vector: [1, 0, 0, 0], limit: 257 })).rejects.toThrow(
      /Vector queries can fetch at most 256 results, requested 257/,
    );
    await expect(http.action(similar, { vector: [1, 0, 0, 0], limit: 0 })).rejects.toThrow(/`limit` must be an integer between 1 and 256/);
    await expect(http.action(similar, { vector: [1, 0, 0, 0], limit: 2.5 })).rejects.toThrow(/`limit` must be an integer/);
    await expect(http.action(similar, { vector: [1, 0, 0, 0], limit: "3" })).rejects.toThrow(/`limit` must be an integer/);
  });

  test("vectors of the wrong size or type are refused", async () => {
    await expect(http.action(similar, { vector: [1, 0, 0] })).rejects.toThrow(/Expected a vector with dimensions 4, received 3/);
    await expect(http.action(similar, { vector: [] })).rejects.toThrow(/`vector` must be a non-empty Array in vectorSearch/);
    await expect(http.action(similar, { vector: [1, "x", 0, 0] })).rejects.toThrow(/must hold only finite numbers/);
    await expect(http.action(similar, { vector: new Array(4097).fill(0) })).rejects.toThrow(/Expected a vector with dimensions 4096, received 4097/);
  });

  test("filters on other fields, or too many of them, are refused", async () => {
    await expect(http.action(similar, { vector: [1, 0, 0, 0], cuisines: ["x"], filterOn: "description" })).rejects.toThrow(
      /contains a filter on "description" but that field isn't indexed for filtering in `filterFields`/,
    );
    const many = Array.from({ length: 65 }, (_, i) => `c${i}`);
    await expect(http.action(similar, { vector: [1, 0, 0, 0], cuisines: many })).rejects.toThrow(
      /has too many conditions. Max: 64 Actual: 65/,
    );
  });

  test("index names: unknown, not a vector index, staged, or a table that does not exist", async () => {
    await expect(http.action(similarIn, { table: "foods", index: "nope" })).rejects.toThrow(/Index foods.nope not found/);
    await expect(http.action(similarIn, { table: "messages", index: "search_body" })).rejects.toThrow(/is not a vector index/);
    await expect(http.action(similarIn, { table: "messages", index: "by_channel" })).rejects.toThrow(/is not a vector index/);
    await expect(http.action(similarIn, { table: "notes", index: "by_nothing" })).rejects.toThrow(/Index notes.by_nothing is currently staged/);
    expect(await http.action(similarIn, { table: "nothing_here", index: "by_embedding" })).toEqual([]);
  });
});
