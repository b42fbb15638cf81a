import { ConvexHttpClient } from "convex/browser";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { api } from "./fixtures/components/convex/_generated/api";
import { startTestEngine, type TestEngine } from "./support/test-engine";

const APP = fileURLToPath(new URL("./fixtures/components/convex", import.meta.url));

/**
 * The attack table's rows about components: what a client sends to reach a
 * component's functions or tables is refused with a clear error, and nothing
 * commits (the commit clock does not move).
 */
describe("attack table: components", () => {
  let running: TestEngine;
  let client: ConvexHttpClient;

  beforeAll(async () => {
    running = await startTestEngine({ appDir: APP });
    client = new ConvexHttpClient(running.engine.cloudUrl, { logger: false });
    await client.mutation(api.counter.inc, { name: "secret" });
    // One row in the app's `work` (the probe has a `work` table of its own).
    await client.mutation(api.probe.crossReads, {});
  });
  afterAll(async () => {
    await running?.close();
  });

  async function refused<T>(attack: () => Promise<T>): Promise<T> {
    const before = running.engine.store.lastCommitTs();
    const outcome = await attack();
    expect(running.engine.store.lastCommitTs(), "the attack committed a write").toBe(before);
    return outcome;
  }

  const post = (body: unknown) =>
    fetch(`${running.engine.cloudUrl}/api/function`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

  test("a client calls a component's function directly with componentPath (no admin key)", async () => {
    const response = await refused(() => post({ path: "public:add", componentPath: "shardedCounter", args: { name: "secret", count: 1000 } }));
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ code: "Forbidden", message: "Only the admin key may call functions of a component directly." });
  });

  test.each(["shardedCounter/public:add", "public:add", "function://shardedCounter;public:add"])(
    "a client names a component's function as an app path (%s)",
    async (path) => {
      const response = await refused(() => post({ path, args: { name: "secret", count: 1000 } }));
      const body = (await response.json()) as { status: string; errorMessage: string };
      expect(body.status).toBe("error");
      expect(body.errorMessage).toMatch(/Could not find public function/);
      expect(await client.query(api.counter.count, { name: "secret" })).toBe(1);
    },
  );

  test("a client hands an app function a component's table name", async () => {
    const error = await refused(() => client.query(api.probe.countRows, { table: "shardedCounter/counters" }).catch((e: Error) => e));
    expect(String(error)).toMatch(/Invalid table name: "shardedCounter\/counters"/);
  });

  test("a client hands a component function the app's or another component's table name", async () => {
    for (const table of ["../work", "shardedCounter/counters", "/work"]) {
      const error = await refused(() => client.query(api.probe.probeCountRows, { table }).catch((e: Error) => e));
      expect(String(error), table).toMatch(/Invalid table name/);
    }
    // Its own table of that name is its own: empty, while the app's `work` is not.
    expect(await client.query(api.probe.probeCountRows, { table: "work" })).toBe(0);
    expect(await client.query(api.probe.countRows, { table: "work" })).toBe(1);
  });
});
