import { ConvexHttpClient } from "convex/browser";
import { strToU8, unzipSync, zipSync } from "fflate";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { api } from "./fixtures/components/convex/_generated/api";
import { startTestEngine, type TestEngine } from "./support/test-engine";

const APP = fileURLToPath(new URL("./fixtures/components/convex", import.meta.url));

const admin = (running: TestEngine) => ({ Authorization: `Convex ${running.engine.adminKey}` });

/** Export and import of component data, in the layout `npx convex export` writes for components. */
describe("snapshots of an app with components", () => {
  test("each component's tables go under _components/<name>/ with their own _tables, and come back with their ids", async () => {
    const source = await startTestEngine({ appDir: APP });
    const target = await startTestEngine({ appDir: APP });
    try {
      const client = new ConvexHttpClient(source.engine.cloudUrl, { logger: false });
      await client.mutation(api.scores.add, { player: "ada", points: 30 });
      await client.mutation(api.scores.add, { player: "bob", points: 10 });
      for (let i = 0; i < 5; i += 1) await client.mutation(api.counter.inc, { name: "visits" });
      await client.mutation(api.probe.crossReads, {});

      const exported = await fetch(`${source.engine.cloudUrl}/api/admin/export`, { method: "POST", headers: admin(source) });
      expect(exported.status).toBe(200);
      const zip = new Uint8Array(await exported.arrayBuffer());
      const entries = unzipSync(zip);
      const names = Object.keys(entries);
      const text = (name: string) => Buffer.from(entries[name]!).toString();

      // The app's own _tables lists only the app's tables, by their own names.
      expect(text("_tables/documents.jsonl").split("\n").filter(Boolean).map((l) => JSON.parse(l).name)).toEqual(["scores", "work", "results"]);
      // Each component has its _tables and its tables under its name; children nest.
      expect(names).toEqual(expect.arrayContaining(["_components/shardedCounter/_tables/documents.jsonl", "_components/shardedCounter/counters/documents.jsonl"]));
      expect(text("_components/probe/_tables/documents.jsonl")).toContain('"name":"items"');
      expect(names).toContain("_components/leaderboard/btreeNode/generated_schema.jsonl");
      expect(names).toContain("_components/rateLimiter/_components/batchWorker/_tables/documents.jsonl");
      // Two tables named `work`: the app's and the probe's, each in its own place.
      expect(text("work/documents.jsonl")).toContain("app's own");
      expect(text("_components/probe/items/documents.jsonl")).toContain("probe's own");
      expect(names.some((n) => n.startsWith("probe/") || n.includes("_scheduled_functions"))).toBe(false);

      const imported = await fetch(`${target.engine.cloudUrl}/api/admin/import`, { method: "POST", headers: admin(target), body: zip });
      expect(imported.status, await imported.clone().text()).toBe(200);
      const copy = new ConvexHttpClient(target.engine.cloudUrl, { logger: false });
      // The components read their imported state: the counter, the aggregate's tree, the probe's rows.
      expect(await copy.query(api.counter.count, { name: "visits" })).toBe(5);
      expect(await copy.query(api.scores.standing, { points: 20 })).toEqual({ count: 2, total: 40, rank: 1 });
      expect(await copy.query(api.probe.items, {})).toEqual(await client.query(api.probe.items, {}));
      for (const table of ["probe/items", "leaderboard/btreeNode", "shardedCounter/counters"]) {
        expect(await documents(target, table), table).toEqual(await documents(source, table));
      }
    } finally {
      await source.close();
      await target.close();
    }
  });

  test("a snapshot that numbers two tables alike (Convex numbers each component on its own) is refused with the reason", async () => {
    const target = await startTestEngine({ appDir: APP });
    try {
      const zip = zipSync({
        "_tables/documents.jsonl": strToU8('{"name":"scores","id":10001}\n'),
        "_components/probe/_tables/documents.jsonl": strToU8('{"name":"items","id":10001}\n'),
      });
      const response = await fetch(`${target.engine.cloudUrl}/api/admin/import`, { method: "POST", headers: admin(target), body: zip });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { message: string }).message).toMatch(/"scores" and "probe\/items" both have number 10001 .* one space/);
    } finally {
      await target.close();
    }
  });
});

async function documents(running: TestEngine, table: string): Promise<unknown[]> {
  const response = await fetch(`${running.engine.cloudUrl}/api/admin/documents?table=${encodeURIComponent(table)}&limit=1000`, { headers: admin(running) });
  return ((await response.json()) as { documents: unknown[] }).documents;
}
