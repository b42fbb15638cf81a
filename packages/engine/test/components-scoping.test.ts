import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { api } from "./fixtures/components/convex/_generated/api";
import { drainScheduler } from "./scheduler-support/scheduler-helpers";
import { liveQuery } from "./sync-support/live-query";
import { startTestEngine, type TestEngine } from "./support/test-engine";

const APP = fileURLToPath(new URL("./fixtures/components/convex", import.meta.url));

/**
 * How a component is scoped, seen through the official clients: its tables,
 * its transactions, auth, env vars, function handles and its own scheduler.
 * The probe component (`fixtures/probe-component`) is laid out like a
 * published package and installed by the fixture app with env vars bound.
 */
describe("a component's scope", () => {
  let running: TestEngine;
  let client: ConvexHttpClient;

  beforeAll(async () => {
    running = await startTestEngine({ appDir: APP, env: { APP_SECRET: "only for the app" } });
    client = new ConvexHttpClient(running.engine.cloudUrl, { logger: false });
  });
  afterAll(async () => {
    await running?.close();
  });

  const documents = async (table: string): Promise<Record<string, unknown>[]> => {
    const response = await fetch(`${running.engine.cloudUrl}/api/admin/documents?table=${encodeURIComponent(table)}&limit=1000`, {
      headers: { Authorization: `Convex ${running.engine.adminKey}` },
    });
    return ((await response.json()) as { documents: Record<string, unknown>[] }).documents;
  };

  test("tables are isolated both ways, even two tables of the same name", async () => {
    const seen = await client.mutation(api.probe.crossReads, {});
    // The app cannot read the probe's row, nor take its id for one of its own tables.
    expect(seen.appView).toEqual({ get: null, asWork: null, appWorkRows: 1 });
    // The probe cannot read the app's row either.
    expect(seen.probeView).toEqual({ get: null, asItem: null, asWork: null });
    expect(seen.probeWorkRows).toBe(0);
    // In the store they are different tables: the probe's is namespaced by its name.
    const tables = running.engine.store.listTables().map((t) => t.name);
    expect(tables).toEqual(expect.arrayContaining(["work", "probe/work", "probe/items"]));
    expect((await documents("probe/items")).map((d) => d._id)).toContain(seen.itemId);
  });

  test("a component mutation that throws inside the app's mutation rolls back its own writes; the app catches it", async () => {
    expect(await client.mutation(api.probe.catchProbeFailure, { text: "doomed" })).toBe("PROBE_FAILED");
    expect(await client.query(api.probe.items, {})).not.toContain("doomed");
    expect(await client.query(api.probe.workLabels, {})).toContain("around doomed");
  });

  test("auth does not cross into a component: it sees no user, and knows its own path", async () => {
    const user = new ConvexHttpClient(running.engine.cloudUrl, { logger: false });
    user.setAuth(await running.engine.mintDevToken({ subject: "user_ada", name: "Ada" }));
    const seen = await user.action(api.probe.identities, {});
    expect(seen).toEqual({ app: "user_ada", probeQuery: { identity: null, componentPath: "probe" }, probeAction: { identity: null } });
  });

  test("a component's process.env holds what its parent bound, and follows the app's env var it references", async () => {
    expect(await client.query(api.probe.probeEnv, {})).toEqual({
      greeting: "hello from the app",
      mood: null,
      // The deployment's own variables stay the app's.
      appSecret: null,
      cloudUrl: running.engine.cloudUrl,
    });
    await running.engine.app.setEnv("PROBE_MOOD", "busy");
    expect((await client.query(api.probe.probeEnv, {})).mood).toBe("busy");
    // A value the component's validator refuses is not stored (the next start would fail on it).
    await expect(running.engine.app.setEnv("PROBE_MOOD", "angry")).rejects.toThrow(/Component "probe" cannot start: its env var MOOD is invalid/);
    expect(running.engine.app.env.list().PROBE_MOOD).toBe("busy");
    expect((await client.query(api.probe.probeEnv, {})).mood).toBe("busy");
    await running.engine.app.setEnv("PROBE_MOOD", null);
  });

  test("the app hands the component a function handle; the component calls it at once, without the user's identity", async () => {
    const user = new ConvexHttpClient(running.engine.cloudUrl, { logger: false });
    user.setAuth(await running.engine.mintDevToken({ subject: "user_bob" }));
    const handle = await user.mutation(api.probe.callMeBack, { label: "called back" });
    expect(handle).toBe("function://probe:recordCall");
    expect(await client.query(api.probe.workLabels, {})).toContain("called back (identity: none)");
  });

  test("the component's own scheduler runs a job that calls the app through a handle", async () => {
    const jobId = await client.mutation(api.probe.scheduleMeBack, { label: "scheduled back" });
    await drainScheduler(running.engine);
    expect(await client.query(api.probe.workLabels, {})).toContain("scheduled back (identity: none)");
    // The job lives in the probe's `_scheduled_functions`, not in the app's.
    expect((await documents("probe/_scheduled_functions")).map((d) => d._id)).toContain(jobId);
    expect((await documents("_scheduled_functions")).map((d) => d._id)).not.toContain(jobId);
  });

  test("a component schedules its own internal function and reads the job from its db.system", async () => {
    // An hour ahead: the job waits until the drain moves the deployment clock to it.
    const jobId = await client.mutation(api.probe.scheduleInProbe, { text: "from the probe's scheduler", delayMs: 3_600_000 });
    expect(await client.query(api.probe.probeJob, { id: jobId })).toMatchObject({ name: "lib.js:addInternal", state: { kind: "pending" } });
    await drainScheduler(running.engine);
    expect(await client.query(api.probe.items, {})).toContain("from the probe's scheduler");
    expect(await client.query(api.probe.probeJob, { id: jobId })).toMatchObject({ state: { kind: "success" } });
  });

  test("a handle the component made to its internal function can be called by the app", async () => {
    const handle = await client.mutation(api.probe.viaProbeHandle, { text: "through the probe's handle" });
    expect(handle).toBe("function://probe;lib:addInternal");
    expect(await client.query(api.probe.items, {})).toContain("through the probe's handle");
  });

  test("only public functions of a child are reachable, and its validators hold", async () => {
    await expect(client.mutation(api.probe.forbidden, { what: "internal" })).rejects.toThrow(
      /Could not find public function for 'lib:addInternal' in component "probe"/,
    );
    await expect(client.mutation(api.probe.forbidden, { what: "badArgs" })).rejects.toThrow(/ArgumentValidationError/);
    await expect(client.mutation(api.probe.forbidden, { what: "badReturn" })).rejects.toThrow(/ReturnsValidationError/);
  });

  test("a live query of the app that reads a component's table updates when that table changes", async () => {
    const live = new ConvexClient(running.engine.cloudUrl, { logger: false });
    try {
      const items = liveQuery(live, api.probe.items, {});
      await items.until(() => true);
      await client.mutation(api.probe.viaProbeHandle, { text: "seen live" });
      await items.until((texts) => texts.includes("seen live"));
    } finally {
      await live.close();
    }
  });

  test("clients cannot call a component's functions directly; the admin key can", async () => {
    type Direct = { function(name: string, componentPath: string, args: unknown): Promise<unknown> };
    const anonymous = client as unknown as Direct;
    await expect(anonymous.function("lib:list", "probe", {})).rejects.toThrow(/admin/i);
    const admin = new ConvexHttpClient(running.engine.cloudUrl, { logger: false });
    (admin as unknown as { setAdminAuth(key: string): void }).setAdminAuth(running.engine.adminKey);
    expect(await (admin as unknown as Direct).function("lib:list", "probe", {})).toEqual(expect.arrayContaining(["probe's own"]));
  });
});
