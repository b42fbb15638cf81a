import { ConvexClient } from "convex/browser";
import { fdatasync } from "node:fs";
import { makeFunctionReference } from "convex/server";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, test } from "vitest";
import type { CallOutcome } from "../src/runtime/function-outcome";
import type { CallRequest } from "../src/runtime/runtime";
import type { QueryWorkerPool } from "../src/runtime/query-workers/query-pool";
import type { FlushFile } from "../src/runtime/writer/wal-sync";
import { eventually } from "./scheduler-support/scheduler-helpers";
import { startTestEngine, type TestEngine } from "./support/test-engine";

const BASIC = fileURLToPath(new URL("fixtures/basic/convex", import.meta.url));
const byAuthor = makeFunctionReference<"query", { author: string }, { body: string }[]>("messages:byAuthor");

/**
 * Reads while a writer commit waits for its WAL sync (pipelined durability: the writer has
 * committed, readers of the file already see it, nobody is told yet). The query workers'
 * caches follow the commit at once, and the real-time layer keeps running queries while a
 * result waits for the sync of what it read. The sync is held by the test (the disk is
 * real: a SQLite file, fdatasync once released).
 */
describe("reads during a WAL sync", () => {
  let running: TestEngine | null = null;
  let held: (() => void)[] | null = null;
  const flushWal: FlushFile = async (fd) => {
    if (held !== null) await new Promise<void>((resolve) => held!.push(resolve));
    await new Promise<void>((resolve, reject) => fdatasync(fd, (e) => (e === null ? resolve() : reject(e))));
  };
  const release = () => {
    const waiting = held ?? [];
    held = null;
    for (const go of waiting) go();
  };
  afterEach(async () => {
    release();
    await running?.close();
    running = null;
  });

  const call = (path: string, args: CallRequest["args"], kind: "query" | "mutation"): Promise<CallOutcome> =>
    running!.engine.app.runtime.call({ path, args, identity: null, allowInternal: true, expectKind: kind, origin: "client" });
  const pool = () => (running!.engine.app.runtime as unknown as { threads: { queryPool: QueryWorkerPool } }).threads.queryPool;
  /** Holds the WAL syncs from now on and starts two mutations (a batch of two: the main thread syncs it); `sent` settles once released. */
  const commitHeld = async (body: string): Promise<{ sent: Promise<CallOutcome[]> }> => {
    held = [];
    const sent = Promise.all([call("messages:send", { author: "ann", body }, "mutation"), call("messages:send", { author: "bob", body }, "mutation")]);
    // The writer reported the commit (a sync for it was asked for): readers of the file see it.
    await eventually(async () => (held!.length > 0 ? true : undefined), "a held WAL sync");
    return { sent };
  };

  test("a query worker hears of a writer commit before its sync ends and keeps its caches", async () => {
    running = await startTestEngine({ appDir: BASIC, writerThread: true, queryWorkers: 1, queryCache: false, flushWal });
    expect((await call("messages:send", { author: "ann", body: "warm" }, "mutation")).status).toBe("success");
    expect(await call("messages:byAuthor", { author: "ann" }, "query")).toMatchObject({ status: "success" });
    const dropsBefore = { ...pool().counters.cacheDrops };

    const { sent } = await commitHeld("during the sync");
    // Runs at the latest snapshot, which holds the unsynced commit; answered only after the sync.
    let answered = false;
    const listed = call("messages:byAuthor", { author: "ann" }, "query").then((o) => ((answered = true), o));
    await eventually(async () => (pool().counters.jobs >= 2 ? true : undefined), "the worker's run");
    expect(answered).toBe(false);
    release();
    expect((await sent).map((o) => o.status)).toEqual(["success", "success"]);
    const outcome = await listed;
    expect(outcome.status === "success" && (outcome.value as { body: string }[]).map((m) => m.body)).toEqual(["warm", "during the sync"]);
    // The worker began its snapshot knowing the commit: its caches were kept, not dropped whole.
    expect(pool().counters.cacheDrops).toEqual(dropsBefore);
  });

  test("a subscription runs while another's result waits for the sync of a commit it read", async () => {
    // One run at a time on the executor: before, a result waiting for a sync held that one place.
    running = await startTestEngine({ appDir: BASIC, writerThread: true, queryWorkers: 1, flushWal, sync: { maxRunsInFlight: 1 } });
    expect((await call("messages:send", { author: "ann", body: "warm" }, "mutation")).status).toBe("success");
    const { sent } = await commitHeld("held");
    const clients = [new ConvexClient(running.engine.cloudUrl, { logger: false }), new ConvexClient(running.engine.cloudUrl, { logger: false })];
    try {
      const seen: string[][][] = [[], []];
      clients.forEach((client, i) => client.onUpdate(byAuthor, { author: i === 0 ? "ann" : "bob" }, (rows) => seen[i]!.push(rows.map((r) => r.body))));
      const jobsBefore = pool().counters.jobs;
      // Both subscriptions ran on the worker while the sync is still held; neither result is out.
      await eventually(async () => (pool().counters.jobs >= jobsBefore + 2 ? true : undefined), "both subscriptions run");
      expect(seen).toEqual([[], []]);
      release();
      expect((await sent).map((o) => o.status)).toEqual(["success", "success"]);
      await eventually(async () => (seen[0]!.length > 0 && seen[1]!.length > 0 ? true : undefined), "both subscriptions answered");
      // Each client's first result already shows the commit it waited for.
      expect(seen.map((updates) => updates[0])).toEqual([["warm", "held"], ["held"]]);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });
});
