import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { ConvexError } from "convex/values";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { api } from "./fixtures/components/convex/_generated/api";
import { eventually } from "./scheduler-support/scheduler-helpers";
import { liveQuery } from "./sync-support/live-query";
import { startTestEngine, type TestEngine } from "./support/test-engine";

const APP = fileURLToPath(new URL("./fixtures/components/convex", import.meta.url));

/**
 * The official components from npm (versions pinned in package.json), run by
 * the fixture app through the official clients, each checked against what its
 * README promises.
 */
describe("official Convex components on the engine", () => {
  let running: TestEngine;
  let client: ConvexHttpClient;

  beforeAll(async () => {
    running = await startTestEngine({ appDir: APP });
    client = new ConvexHttpClient(running.engine.cloudUrl, { logger: false });
  });
  afterAll(async () => {
    await running?.close();
  });

  describe("@convex-dev/rate-limiter", () => {
    test("a token bucket allows its capacity, then refuses with a retry time, until reset", async () => {
      for (let i = 0; i < 3; i += 1) expect(await client.mutation(api.limits.take, { key: "ada" })).toEqual({ ok: true });
      const refused = await client.mutation(api.limits.take, { key: "ada" });
      expect(refused.ok).toBe(false);
      expect(refused.retryAfter).toBeGreaterThan(0);
      expect((await client.query(api.limits.check, { key: "ada" })).ok).toBe(false);
      // Another key has its own bucket.
      expect((await client.mutation(api.limits.take, { key: "bob" })).ok).toBe(true);
      await client.mutation(api.limits.reset, { key: "ada" });
      expect((await client.mutation(api.limits.take, { key: "ada" })).ok).toBe(true);
    });

    test("a fixed window refuses past its rate and allows again once the window has passed", async () => {
      // The current one-minute window ends two seconds from now.
      const windowEnd = Date.now() + 2_000;
      const start = windowEnd - 60_000;
      expect((await client.mutation(api.limits.takeInWindow, { key: "w", start })).ok).toBe(true);
      expect((await client.mutation(api.limits.takeInWindow, { key: "w", start })).ok).toBe(true);
      const refused = await client.mutation(api.limits.takeInWindow, { key: "w", start });
      expect(refused.ok).toBe(false);
      expect(Date.now() + refused.retryAfter!).toBeGreaterThanOrEqual(windowEnd - 100);
      // Refused takes consume nothing; the first one after the window's end succeeds.
      await eventually(async () => ((await client.mutation(api.limits.takeInWindow, { key: "w", start })).ok ? true : undefined), "the next window");
      expect(Date.now()).toBeGreaterThanOrEqual(windowEnd - 100);
    });

    test("a limit that throws inside the app's mutation rolls back the app's writes; a caught one does not", async () => {
      for (let i = 0; i < 3; i += 1) await client.mutation(api.limits.take, { key: "carl" });
      const error = await client.mutation(api.limits.recordLimited, { key: "carl", label: "limited" }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConvexError);
      expect((error as ConvexError<{ kind: string; name: string }>).data).toMatchObject({ kind: "RateLimited", name: "perKey" });
      expect(await client.query(api.probe.workLabels, {})).not.toContain("limited");
      // Caught in the app: the component's ConvexError arrives with its data, the app's row stays.
      expect(await client.mutation(api.limits.recordCatching, { key: "carl", label: "caught" })).toBe("RateLimited");
      expect(await client.query(api.probe.workLabels, {})).toContain("caught");
    });
  });

  describe("@convex-dev/aggregate", () => {
    test("count, sum and rank follow inserts and deletes, live", async () => {
      const live = new ConvexClient(running.engine.cloudUrl, { logger: false });
      try {
        const standing = liveQuery(live, api.scores.standing, { points: 25 });
        await standing.until((s) => s.count === 0);
        const ada = await client.mutation(api.scores.add, { player: "ada", points: 30 });
        await client.mutation(api.scores.add, { player: "bob", points: 10 });
        await client.mutation(api.scores.add, { player: "cyd", points: 20 });
        // 25 points would come second: only ada's 30 is higher.
        expect(await standing.until((s) => s.count === 3)).toEqual({ count: 3, total: 60, rank: 1 });
        expect(await client.query(api.scores.atRank, { rank: 0 })).toBe("ada");
        expect(await client.query(api.scores.atRank, { rank: 2 })).toBe("bob");
        await client.mutation(api.scores.remove, { id: ada });
        expect(await standing.until((s) => s.count === 2)).toEqual({ count: 2, total: 30, rank: 0 });
        expect(await client.query(api.scores.atRank, { rank: 0 })).toBe("cyd");
      } finally {
        await live.close();
      }
    });
  });

  describe("@convex-dev/sharded-counter", () => {
    test("a counter is exact under concurrent increments from many clients", async () => {
      const clients = Array.from({ length: 8 }, () => new ConvexClient(running.engine.cloudUrl, { logger: false }));
      try {
        await Promise.all(clients.map((c) => Promise.all(Array.from({ length: 25 }, () => c.mutation(api.counter.inc, { name: "hits" })))));
        expect(await client.query(api.counter.count, { name: "hits" })).toBe(200);
      } finally {
        await Promise.all(clients.map((c) => c.close()));
      }
    });

    test("an increment commits or rolls back with the mutation that made it, nested calls included", async () => {
      await client.mutation(api.counter.inc, { name: "tx" });
      await expect(client.mutation(api.counter.incThenFail, { name: "tx" })).rejects.toThrow(/FAILED_ON_PURPOSE/);
      expect(await client.query(api.counter.count, { name: "tx" })).toBe(1);
      // The inner mutation adds 10 and fails; the outer one catches that, adds 1 and commits.
      expect(await client.mutation(api.counter.incAroundFailure, { name: "tx" })).toBe("INNER_FAILED");
      expect(await client.query(api.counter.count, { name: "tx" })).toBe(2);
      const labels = await client.query(api.probe.workLabels, {});
      expect(labels).toContain("outer tx");
      expect(labels).not.toContain("inner tx");
      expect(labels).not.toContain("before failing tx");
    });
  });

  describe("@convex-dev/workpool", () => {
    test("a pool runs its jobs with the configured parallelism and reports each through onComplete", async () => {
      const gate = await startCountingGate();
      try {
        const labels = ["a", "b", "c", "d", "e"];
        const ids = await client.mutation(api.pool.enqueue, { labels, gate: gate.url });
        // Release the jobs one at a time, each only once the pool has two running.
        for (let released = 0; released < labels.length; released += 1) {
          await gate.waitForInFlight(Math.min(2, labels.length - released));
          gate.releaseOne();
        }
        const results = await eventually(async () => {
          const rows = await client.query(api.pool.results, {});
          return rows.length === labels.length ? rows : undefined;
        }, "every onComplete");
        expect(gate.maxInFlight).toBe(2);
        expect(results.map((r) => r.label).sort()).toEqual(labels);
        for (const r of results) expect(r).toMatchObject({ kind: "success", value: `${r.label}:ok` });
        for (const id of ids) expect(await client.query(api.pool.status, { id })).toEqual({ state: "finished" });
      } finally {
        await gate.close();
      }
    });
  });
});

/** A loopback server that holds each request until released, counting how many wait at once. */
async function startCountingGate() {
  const waiting: ServerResponse[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let changed = () => {};
  const server = createServer((_req, res) => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    waiting.push(res);
    changed();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/gate`,
    get maxInFlight() {
      return maxInFlight;
    },
    waitForInFlight: (n: number) =>
      new Promise<void>((resolve) => {
        changed = () => inFlight >= n && resolve();
        changed();
      }),
    releaseOne() {
      inFlight -= 1;
      waiting.shift()!.end("ok");
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of waiting.splice(0)) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
