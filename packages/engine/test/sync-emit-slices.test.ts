import { ConvexClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, test } from "vitest";
import { SLICE_TARGETS } from "../src/sync/emit-slices";
import { eventually } from "./scheduler-support/scheduler-helpers";
import { startTestEngine, type TestEngine } from "./support/test-engine";

const BASIC = fileURLToPath(new URL("fixtures/basic/convex", import.meta.url));
const list = makeFunctionReference<"query", Record<string, never>, { body: string }[]>("messages:list");
/** Three slices' worth of connections sharing one subscription. */
const CLIENTS = 3 * SLICE_TARGETS;

let running: TestEngine;
let clients: ConvexClient[] = [];
/** Transitions sent, the frames they went out as, and a hook run as each goes out. */
let transitions = 0;
const frames: (string | Buffer)[] = [];
let onTransition: (() => void) | null = null;

beforeAll(async () => {
  running = await startTestEngine({
    appDir: BASIC,
    sync: {
      beforeSend(frame) {
        if (!String(frame).startsWith('{"type":"Transition"')) return;
        transitions += 1;
        frames.push(frame);
        onTransition?.();
      },
    },
  });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await running?.close();
});

/**
 * One result of a subscription that many connections share becomes a Transition for each
 * of them. The socket thread sends them in bounded slices, each from a macrotask of its
 * own, so the I/O that arrives meanwhile (a mutation, its response, other clients) is
 * handled between slices instead of after the whole fan-out. The Transition is encoded
 * once for all of them, whichever slice sends it.
 */
test("a fan-out to many connections lets other work in between its slices, and every connection gets the update", async () => {
  const latest: string[][] = [];
  clients = Array.from({ length: CLIENTS }, (_, i) => {
    const client = new ConvexClient(running.engine.cloudUrl, { logger: false });
    client.onUpdate(list, {}, (rows) => (latest[i] = rows.map((r) => r.body)));
    return client;
  });
  await eventually(async () => (latest.filter((rows) => rows !== undefined).length === CLIENTS ? true : undefined), "every client's first result");
  expect(running.engine.sync.stats().subscriptions).toBe(1);

  // When the update's first Transition goes out, a macrotask is queued; it records how
  // many had gone out by the time the thread got to it.
  transitions = 0;
  frames.length = 0;
  const encodedBefore = running.engine.sync.stats().transitionsEncoded;
  let sentBeforeNextTurn: number | null = null;
  onTransition = () => {
    onTransition = null;
    setImmediate(() => (sentBeforeNextTurn = transitions));
  };
  const sent = await running.engine.app.runtime.call({ path: "messages:send", args: { author: "a", body: "to everyone" }, identity: null, allowInternal: false, origin: "client" });
  expect(sent.status).toBe("success");
  await eventually(async () => (latest.every((rows) => rows?.[0] === "to everyone") ? true : undefined), "every client's update");

  expect(transitions).toBeGreaterThanOrEqual(CLIENTS);
  expect(sentBeforeNextTurn).not.toBeNull();
  expect(sentBeforeNextTurn!).toBeLessThanOrEqual(SLICE_TARGETS);
  // The connections are in the same state, so their Transition is one encoding shared
  // across all the slices, not one per slice.
  expect(running.engine.sync.stats().transitionsEncoded - encodedBefore).toBe(1);
  // The frame hook sees that encoding as it goes to each socket: one shared Buffer, no
  // text decoded per connection (a hook that wants text decodes what it looks at).
  expect(frames.length).toBe(transitions);
  expect(new Set(frames).size).toBe(1);
  expect(Buffer.isBuffer(frames[0])).toBe(true);
});
