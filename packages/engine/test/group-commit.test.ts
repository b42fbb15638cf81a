import Database from "better-sqlite3";
import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, test } from "vitest";
import type { CallOutcome } from "../src/runtime/function-outcome";
import type { CallRequest } from "../src/runtime/runtime";
import { eventually } from "./scheduler-support/scheduler-helpers";
import { filesIn, storageDirs } from "./storage-support/storage-helpers";
import { startTestEngine, type TestEngine } from "./support/test-engine";

const BASIC = fileURLToPath(new URL("fixtures/basic/convex", import.meta.url));
const FILES = fileURLToPath(new URL("fixtures/files/convex", import.meta.url));
const SCHEDULER = fileURLToPath(new URL("fixtures/scheduler/convex", import.meta.url));

/**
 * Group commit: mutations that queue for the executor while it is busy run in
 * one SQLite transaction, each in its own savepoint, and share one COMMIT
 * (one fsync). These tests start several mutations in the same tick, so they
 * land in one batch, and check what each caller sees. Both executors: batches
 * on the main thread, and on the writer thread with its own connection.
 */
describe.each([
  { executor: "main thread", writerThread: false },
  { executor: "writer thread", writerThread: true },
])("group commit ($executor)", ({ writerThread }) => {
  let running: TestEngine | null = null;
  afterEach(async () => {
    await running?.close();
    running = null;
  });

  const start = async (appDir = BASIC) => {
    running = await startTestEngine({ appDir, writerThread, queryWorkers: writerThread ? 1 : 0 });
    return running.engine;
  };
  const mutation = (path: string, args: CallRequest["args"], extra: Partial<CallRequest> = {}): Promise<CallOutcome> =>
    running!.engine.app.runtime.call({ path, args, identity: null, allowInternal: true, expectKind: "mutation", origin: "client", ...extra });
  const bodies = async (): Promise<string[]> => {
    const outcome = await running!.engine.app.runtime.call({ path: "messages:list", args: {}, identity: null, allowInternal: false, origin: "client" });
    if (outcome.status !== "success") throw new Error(outcome.errorMessage);
    return (outcome.value as { body: string }[]).map((m) => m.body);
  };
  /** Runs `work` and counts the commits it caused (one per batch), as subscribers hear of them. */
  const countingCommits = async <T>(work: () => Promise<T>): Promise<{ result: T; commits: number }> => {
    const sync = running!.engine.sync;
    const onCommit = sync.onCommit;
    let commits = 0;
    sync.onCommit = (commit) => {
      commits += 1;
      return onCommit.call(sync, commit);
    };
    try {
      return { result: await work(), commits };
    } finally {
      sync.onCommit = onCommit;
    }
  };
  const success = (outcome: CallOutcome) => {
    if (outcome.status !== "success") throw new Error(`expected success, got ${outcome.errorMessage}`);
    return outcome;
  };

  test("a failing mutation in a batch is rolled back alone; the others commit together under one ts", async () => {
    await start();
    // Six mutations started in one tick: two throw after writing, one is refused (bad id).
    const { result: outcomes, commits } = await countingCommits(() => Promise.all([
      mutation("messages:send", { author: "a", body: "first" }),
      mutation("messages:failAfterWrite", { body: "doomed 1" }),
      mutation("messages:send", { author: "b", body: "second" }),
      mutation("messages:failAfterWrite", { body: "doomed 2" }),
      mutation("messages:like", { id: "not-an-id-at-all-but-long-enough-xx" }),
      mutation("messages:send", { author: "c", body: "third" }),
    ]));
    expect(commits).toBe(1);
    expect(outcomes.map((o) => o.status)).toEqual(["success", "error", "success", "error", "error", "success"]);
    expect(outcomes[1]).toMatchObject({ errorMessage: expect.stringMatching(/boom after write/) });
    // They shared a batch: one commit ts for every success.
    const tss = new Set(outcomes.filter((o) => o.status === "success").map((o) => success(o).ts));
    expect(tss.size).toBe(1);
    expect(running!.engine.store.lastCommitTs()).toBe([...tss][0]);
    const stored = await bodies();
    expect(stored).toEqual(expect.arrayContaining(["first", "second", "third"]));
    expect(stored).not.toContain("doomed 1");
    expect(stored).not.toContain("doomed 2");
  });

  test("when the first mutation of a batch fails, the ones after it still commit", async () => {
    await start();
    const { result: outcomes, commits } = await countingCommits(() => Promise.all([
      mutation("messages:failAfterWrite", { body: "doomed first" }),
      mutation("messages:send", { author: "a", body: "after the failure" }),
      mutation("messages:failAfterWrite", { body: "doomed last" }),
      mutation("messages:send", { author: "a", body: "last" }),
    ]));
    expect(commits).toBe(1);
    expect(outcomes.map((o) => o.status)).toEqual(["error", "success", "error", "success"]);
    expect((await bodies()).sort()).toEqual(["after the failure", "last"]);
  });

  test("nested mutations keep their own savepoints inside a batch", async () => {
    await start();
    const { result: outcomes, commits } = await countingCommits(() => Promise.all([
      mutation("messages:send", { author: "a", body: "before" }),
      mutation("messages:nestedRollback", { body: "outer" }),
      mutation("messages:failAfterWrite", { body: "doomed" }),
      mutation("messages:nestedRollback", { body: "outer 2" }),
    ]));
    expect(commits).toBe(1);
    expect(outcomes.map((o) => o.status)).toEqual(["success", "success", "error", "success"]);
    expect(success(outcomes[1]!).value).toMatch(/caught: .*boom after write/);
    const stored = await bodies();
    expect(stored.sort()).toEqual(["before", "outer", "outer 2"]);
  });

  test("no caller hears of its mutation before the batch is committed (visible to another connection)", async () => {
    const engine = await start();
    const reader = new Database(path.join(running!.dataDir, "db.sqlite3"), { readonly: true });
    const visible = reader.prepare("SELECT count(*) FROM documents WHERE json_extract(value, '$._id') = ?").pluck();
    try {
      const seenAtAnswer: number[] = [];
      const { commits } = await countingCommits(() => Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          mutation("messages:send", { author: "a", body: `m${i}` }).then((outcome) => {
            // The id is known only from the answer; at that moment the row must be committed.
            seenAtAnswer.push(visible.get(success(outcome).value as string) as number);
          }),
        ),
      ));
      expect(commits).toBe(1);
      expect(seenAtAnswer).toEqual(Array(20).fill(1));
      expect(engine.store.lastCommitTs()).toBeGreaterThan(0n);
    } finally {
      reader.close();
    }
  });

  // The failure is injected where the batch commits: the main thread's connection, or the writer thread's COMMIT.
  test("a failed commit answers every mutation of the batch with an error and keeps none of them", async () => {
    const engine = await start();
    if (writerThread) {
      await engine.app.runtime.mutations.writerThread!.failNextCommit("disk full");
    } else {
      const store = engine.store;
      const commit = store.commit.bind(store);
      store.commit = () => {
        store.commit = commit;
        throw new Error("disk full");
      };
    }
    const outcomes = await Promise.all([
      mutation("messages:send", { author: "a", body: "lost 1" }),
      mutation("messages:failAfterWrite", { body: "doomed" }),
      mutation("messages:send", { author: "a", body: "lost 2" }),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(["error", "error", "error"]);
    expect(outcomes[1]).toMatchObject({ errorMessage: expect.stringMatching(/boom after write/) });
    expect(await bodies()).toEqual([]);
    // The next batch commits normally.
    success(await mutation("messages:send", { author: "a", body: "kept" }));
    expect(await bodies()).toEqual(["kept"]);
  });

  test("exactly once inside a batch: a repeated idempotency key runs once and both copies get its result", async () => {
    await start();
    const key = { sessionId: "session-1", requestId: 7 };
    const [first, again, other] = await Promise.all([
      mutation("messages:send", { author: "a", body: "once" }, { idempotencyKey: key }),
      mutation("messages:send", { author: "a", body: "once" }, { idempotencyKey: key }),
      mutation("messages:send", { author: "a", body: "other" }, { idempotencyKey: { ...key, requestId: 8 } }),
    ]);
    expect(success(again!).value).toBe(success(first!).value);
    expect(success(again!).ts).toBe(success(first!).ts);
    expect(success(other!).value).not.toBe(success(first!).value);
    expect(success(other!).ts).toBe(success(first!).ts); // one batch
    expect((await bodies()).sort()).toEqual(["once", "other"]);
    // A retry in a later batch gets the stored result and its original ts.
    const later = success(await mutation("messages:send", { author: "a", body: "once" }, { idempotencyKey: key }));
    expect(later).toMatchObject({ value: success(first!).value, ts: success(first!).ts });
    expect((await bodies()).length).toBe(2);
  });

  test("a failed first copy of an idempotency key does not count: its repeat runs", async () => {
    await start();
    const key = { sessionId: "session-2", requestId: 1 };
    const { result: [failed, retried, again], commits } = await countingCommits(() => Promise.all([
      mutation("messages:failAfterWrite", { body: "x" }, { idempotencyKey: key }),
      mutation("messages:send", { author: "a", body: "retried" }, { idempotencyKey: key }),
      mutation("messages:send", { author: "a", body: "retried" }, { idempotencyKey: key }),
    ]));
    expect(commits).toBe(1);
    expect(failed!.status).toBe("error");
    expect(success(retried!).value).toEqual(expect.any(String));
    expect(success(again!)).toMatchObject({ value: success(retried!).value, ts: success(retried!).ts });
    expect(await bodies()).toEqual(["retried"]);
  });

  test("each client's mutations keep their order across batches (ConvexHttpClient, 8 clients at once)", async () => {
    const engine = await start();
    const send = makeFunctionReference<"mutation">("messages:send");
    const clients = Array.from({ length: 8 }, () => new ConvexHttpClient(engine.cloudUrl, { logger: false }));
    // Each client queues its 15 mutations at once; the client sends them one after another.
    const { commits } = await countingCommits(() => Promise.all(
      clients.flatMap((client, c) => Array.from({ length: 15 }, (_, i) => client.mutation(send, { author: `c${c}`, body: `${c}:${i}` }))),
    ));
    // Requests of different clients that arrive together share commits.
    expect(commits).toBeLessThan(8 * 15);
    const outcome = await engine.app.runtime.call({ path: "messages:list", args: {}, identity: null, allowInternal: false, origin: "client" });
    const rows = (success(outcome).value as { author: string; body: string; _creationTime: number }[]).slice().reverse();
    expect(rows.length).toBe(50); // `list` shows the newest 50; order is by creation time
    for (let c = 0; c < 8; c++) {
      const mine = rows.filter((r) => r.author === `c${c}`).map((r) => Number(r.body.split(":")[1]));
      expect(mine).toEqual([...mine].sort((a, b) => a - b));
    }
  });

  test("after-commit effects run only for the mutations of the batch that committed", async () => {
    const engine = await start(FILES);
    const runtime = engine.app.runtime;
    const store = async (text: string) => {
      const outcome = await runtime.call({ path: "files:store", args: { text }, identity: null, allowInternal: false, origin: "client" });
      return success(outcome).value as string;
    };
    const kept = await store("kept");
    const removed = await store("removed");
    const blobs = storageDirs(running!.dataDir).blobs;
    expect(filesIn(blobs)).toEqual(expect.arrayContaining([kept, removed]));
    const { result: outcomes, commits } = await countingCommits(() => Promise.all([
      mutation("files:removeThenFail", { storageId: kept }),
      mutation("files:remove", { storageId: removed }),
      mutation("files:noop", {}),
    ]));
    expect(commits).toBe(1);
    expect(outcomes.map((o) => o.status)).toEqual(["error", "success", "success"]);
    expect(filesIn(blobs)).toContain(kept);
    expect(filesIn(blobs)).not.toContain(removed);
  });

  test("jobs scheduled by mutations of one batch wake the scheduler and run", async () => {
    const engine = await start(SCHEDULER);
    const { result: outcomes, commits } = await countingCommits(() => Promise.all([
      mutation("jobs:scheduleAfter", { delayMs: 0, fn: "record", args: { label: "from a" } }),
      mutation("jobs:fail", { label: "failed mutation" }),
      mutation("jobs:scheduleAfter", { delayMs: 0, fn: "record", args: { label: "from b" } }),
    ]));
    expect(commits).toBe(1);
    expect(outcomes.map((o) => o.status)).toEqual(["success", "error", "success"]);
    const labels = async () => {
      const outcome = await engine.app.runtime.call({ path: "jobs:runs", args: {}, identity: null, allowInternal: false, origin: "client" });
      return (success(outcome).value as { label: string }[]).map((r) => r.label).sort();
    };
    expect(await eventually(async () => ((await labels()).length === 2 ? labels() : undefined), "both jobs")).toEqual([
      "from a",
      "from b",
    ]);
  });
});
