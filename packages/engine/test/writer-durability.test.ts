import Database from "better-sqlite3";
import { fdatasync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, test } from "vitest";
import type { CallOutcome } from "../src/runtime/function-outcome";
import type { CallRequest } from "../src/runtime/runtime";
import type { FlushFile } from "../src/runtime/writer/wal-sync";
import { eventually } from "./scheduler-support/scheduler-helpers";
import { quietLogger, startTestEngine, type TestEngine } from "./support/test-engine";

const BASIC = fileURLToPath(new URL("fixtures/basic/convex", import.meta.url));

/** The real flush: fdatasync of the WAL file. */
const realFlush: FlushFile = (fd) => new Promise((resolve, reject) => fdatasync(fd, (e) => (e === null ? resolve() : reject(e))));

/**
 * The writer thread commits with synchronous=NORMAL and the main thread fdatasyncs the
 * WAL before anything that depends on a commit is told (`wal-sync.ts`), while the writer
 * already runs the next batch. These tests hold or break that flush (the disk itself is
 * real: a SQLite file, fdatasync once released) and check what callers and readers see.
 */
describe("writer durability (WAL synced off the writer thread)", () => {
  let running: TestEngine | null = null;
  afterEach(async () => {
    await running?.close();
    running = null;
  });

  const mutation = (path: string, args: CallRequest["args"]): Promise<CallOutcome> =>
    running!.engine.app.runtime.call({ path, args, identity: null, allowInternal: true, expectKind: "mutation", origin: "client" });
  const rowsWithBody = (reader: Database.Database, prefix: string): number =>
    reader.prepare("SELECT count(*) FROM documents WHERE json_extract(value, '$.body') LIKE ?").pluck().get(`${prefix}%`) as number;

  test("no answer and no query result before the WAL is synced; the writer runs the next batch meanwhile", async () => {
    let held: (() => void)[] | null = null;
    const flushWal: FlushFile = async (fd) => {
      if (held !== null) await new Promise<void>((resolve) => held!.push(resolve));
      await realFlush(fd);
    };
    running = await startTestEngine({ appDir: BASIC, writerThread: true, queryWorkers: 1, flushWal });
    const runtime = running.engine.app.runtime;
    expect((await mutation("messages:send", { author: "a", body: "warm" })).status).toBe("success");
    const reader = new Database(path.join(running.dataDir, "db.sqlite3"), { readonly: true });
    try {
      held = [];
      const events: string[] = [];
      const first = Promise.all([0, 1, 2].map((i) => mutation("messages:send", { author: "a", body: `first ${i}` }).then((o) => (events.push("first answered"), o))));
      // The first batch is committed to the WAL (another connection sees it) but not synced.
      await eventually(async () => (rowsWithBody(reader, "first") === 3 ? true : undefined), "the first batch in the WAL");
      const second = Promise.all([0, 1].map((i) => mutation("messages:send", { author: "b", body: `second ${i}` }).then((o) => (events.push("second answered"), o))));
      // The writer ran the second batch while the first one's sync was held.
      await eventually(async () => (rowsWithBody(reader, "second") === 2 ? true : undefined), "the second batch in the WAL");
      const list = runtime.call({ path: "messages:list", args: {}, identity: null, allowInternal: false, origin: "client" }).then((o) => (events.push("query answered"), o));
      await eventually(async () => (held!.length > 0 ? true : undefined), "a held sync");
      expect(events).toEqual([]);

      events.push("synced");
      const waiting = held;
      held = null;
      for (const release of waiting) release();
      const [firstOutcomes, secondOutcomes, listed] = await Promise.all([first, second, list]);
      expect(events[0]).toBe("synced");
      expect([...firstOutcomes, ...secondOutcomes].map((o) => o.status)).toEqual(Array(5).fill("success"));
      const ts = (o: CallOutcome) => (o.status === "success" ? o.ts! : -1n);
      // Two batches, two commits, in order.
      expect(new Set(firstOutcomes.map(ts)).size).toBe(1);
      expect(ts(secondOutcomes[0]!)).toBeGreaterThan(ts(firstOutcomes[0]!));
      // The query waited for the sync of what it read, then showed it.
      expect(listed.status === "success" && (listed.value as { body: string }[]).length).toBe(6);
      const stats = runtime.mutations.writerStats()!;
      expect(stats.batches).toBeGreaterThanOrEqual(3);
      expect(stats.syncs).toBeGreaterThanOrEqual(2);
    } finally {
      reader.close();
    }
  });

  test("a lone mutation is synced by the writer in its COMMIT; a batch of several by the main thread", async () => {
    let mainThreadFlushes = 0;
    const flushWal: FlushFile = (fd) => {
      mainThreadFlushes += 1;
      return realFlush(fd);
    };
    running = await startTestEngine({ appDir: BASIC, writerThread: true, queryWorkers: 1, flushWal });
    for (const i of [1, 2, 3]) expect((await mutation("messages:send", { author: "a", body: `alone ${i}` })).status).toBe("success");
    expect(mainThreadFlushes).toBe(0);
    const together = await Promise.all([1, 2].map((i) => mutation("messages:send", { author: "a", body: `together ${i}` })));
    expect(together.map((o) => o.status)).toEqual(["success", "success"]);
    expect(mainThreadFlushes).toBe(1);
    expect(running.engine.app.runtime.mutations.writerStats()).toMatchObject({ batches: 4, mutations: 5, syncs: 1 });
  });

  test("a commit whose WAL sync fails is not acknowledged as a success; later commits are", async () => {
    let failing = false;
    const flushWal: FlushFile = (fd) => (failing ? Promise.reject(Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" })) : realFlush(fd));
    const errors: string[] = [];
    running = await startTestEngine({
      appDir: BASIC,
      writerThread: true,
      queryWorkers: 1,
      flushWal,
      logger: { ...quietLogger(), error: (message: string, e?: unknown) => void errors.push(`${message} ${String(e)}`) },
    });
    expect((await mutation("messages:send", { author: "a", body: "before" })).status).toBe("success");
    failing = true;
    const [sent, failed] = await Promise.all([
      mutation("messages:send", { author: "a", body: "unsure" }),
      mutation("messages:failAfterWrite", { body: "doomed" }),
    ]);
    // Nobody can tell whether "unsure" survives a power loss: the caller is told to retry (its idempotency key answers).
    expect(sent).toMatchObject({ status: "error", errorMessage: expect.stringMatching(/retry to learn whether/) });
    // A mutation that failed on its own keeps its own error: nothing of it was written either way.
    expect(failed).toMatchObject({ status: "error", errorMessage: expect.stringMatching(/boom after write/) });
    expect(errors.join("\n")).toMatch(/EIO/);
    failing = false;
    expect((await mutation("messages:send", { author: "a", body: "after" })).status).toBe("success");
  });
});
