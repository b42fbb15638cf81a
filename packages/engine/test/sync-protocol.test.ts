import path from "node:path";
import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestEngine, type TestEngine } from "./support/test-engine";
import { liveQuery } from "./sync-support/live-query";
import { openRawSync, type RawSyncClient } from "./sync-support/raw-sync-client";

/**
 * The wire protocol itself (convex-interface.md §5): frames checked one by
 * one with a bare socket where the official client would never misbehave
 * (wrong versions, garbage), and the official client where the engine must
 * produce something it can digest (chunked transitions, admin auth).
 */

type Message = { _id: string; author: string; body: string };
const list = makeFunctionReference<"query", Record<string, never>, Message[]>("messages:list");
const send = makeFunctionReference<"mutation", { author: string; body: string }, string>("messages:send");
const whoAmI = makeFunctionReference<"query", Record<string, never>, { subject: string } | null>("messages:whoAmI");
const internalOnly = makeFunctionReference<"mutation", Record<string, never>, string>("messages:internalOnly");

const APP = path.resolve(__dirname, "fixtures/basic/convex");
const PING_AFTER_MS = 400;
let running: TestEngine;
/** Types of every frame the engine sent, in order. */
const sentTypes: string[] = [];
const raws: RawSyncClient[] = [];

beforeAll(async () => {
  running = await startTestEngine({
    appDir: APP,
    sync: {
      pingAfterMs: PING_AFTER_MS,
      beforeSend: (frame) => void sentTypes.push(/^\{"type":"(\w+)"/.exec(String(frame))?.[1] ?? "?"),
    },
  });
});
afterAll(async () => {
  for (const raw of raws) raw.close();
  await running?.close();
});

async function raw(): Promise<RawSyncClient> {
  const client = await openRawSync(running.engine.cloudUrl);
  raws.push(client);
  client.send({ type: "Connect", sessionId: crypto.randomUUID(), connectionCount: 0, lastCloseReason: "InitialConnect", clientTs: Date.now() });
  return client;
}

const addList = (queryId: number) => ({ type: "Add", queryId, udfPath: "messages:list", args: [{}] });
/** A query with a small result, whatever else the tests stored. */
const addWhoAmI = (queryId: number) => ({ type: "Add", queryId, udfPath: "messages:whoAmI", args: [{}] });
type Version = { querySet: number; identity: number; ts: string };
const tsOf = (encoded: string) => Buffer.from(encoded, "base64").readBigUInt64LE();

describe("transitions", () => {
  test("each Transition starts where the last ended; a MutationResponse precedes the Transition that covers it", async () => {
    const c = await raw();
    c.send({ type: "ModifyQuerySet", baseVersion: 0, newVersion: 1, modifications: [addList(0)] });
    const first = await c.next("Transition");
    expect(first.startVersion).toEqual({ querySet: 0, identity: 0, ts: "AAAAAAAAAAA=" });
    expect((first.endVersion as Version).querySet).toBe(1);
    const [update] = first.modifications as Record<string, unknown>[];
    expect(update).toMatchObject({ type: "QueryUpdated", queryId: 0, logLines: [], journal: null });

    c.send({ type: "Mutation", requestId: 0, udfPath: "messages:send", args: [{ author: "raw", body: "over the wire" }] });
    const response = await c.next("MutationResponse");
    expect(response).toMatchObject({ requestId: 0, success: true });
    expect(response.logLines).toEqual([expect.stringContaining("sending")]);
    const second = await c.next("Transition");
    expect(second.startVersion).toEqual(first.endVersion);
    expect(tsOf((second.endVersion as Version).ts)).toBeGreaterThanOrEqual(tsOf(response.ts as string));
    expect(c.received.indexOf(response)).toBeLessThan(c.received.indexOf(second));
    const value = (second.modifications as { value: Message[] }[])[0]!.value;
    expect(value.some((m) => m._id === response.result)).toBe(true);
  });

  test("removing a query sends QueryRemoved and stops its updates", async () => {
    const c = await raw();
    c.send({ type: "ModifyQuerySet", baseVersion: 0, newVersion: 1, modifications: [addWhoAmI(7)] });
    const first = await c.next("Transition");
    c.send({ type: "ModifyQuerySet", baseVersion: 1, newVersion: 2, modifications: [{ type: "Remove", queryId: 7 }] });
    const second = await c.next("Transition");
    expect(second.startVersion).toEqual(first.endVersion);
    expect(second.modifications).toEqual([{ type: "QueryRemoved", queryId: 7 }]);
    expect((second.endVersion as Version).querySet).toBe(2);
  });

  test("a quiet connection gets a Ping", async () => {
    const c = await raw();
    c.send({ type: "ModifyQuerySet", baseVersion: 0, newVersion: 1, modifications: [] });
    await c.next("Transition");
    expect(await c.next("Ping")).toEqual({ type: "Ping" });
  });
});

describe("protocol errors end the connection", () => {
  test("a ModifyQuerySet with the wrong baseVersion gets a FatalError and a close", async () => {
    const c = await raw();
    c.send({ type: "ModifyQuerySet", baseVersion: 0, newVersion: 1, modifications: [addWhoAmI(0)] });
    await c.next("Transition");
    c.send({ type: "ModifyQuerySet", baseVersion: 0, newVersion: 1, modifications: [] });
    expect((await c.next("FatalError")).error).toMatch(/baseVersion 0.*version 1/);
    expect(await c.closed).toMatchObject({ code: 1008, reason: "BaseVersionMismatch" });
  });

  test("an Authenticate with the wrong baseVersion is fatal too", async () => {
    const c = await raw();
    c.send({ type: "Authenticate", baseVersion: 3, tokenType: "None" });
    await c.next("FatalError");
    expect((await c.closed).reason).toBe("BaseVersionMismatch");
  });

  test("a duplicate query id, an unknown one and a malformed frame are fatal", async () => {
    const duplicate = await raw();
    duplicate.send({ type: "ModifyQuerySet", baseVersion: 0, newVersion: 1, modifications: [addWhoAmI(1), addWhoAmI(1)] });
    expect((await duplicate.closed).reason).toBe("DuplicateQueryId");

    const unknown = await raw();
    unknown.send({ type: "ModifyQuerySet", baseVersion: 0, newVersion: 1, modifications: [{ type: "Remove", queryId: 9 }] });
    expect((await unknown.closed).reason).toBe("UnknownQueryId");

    const garbage = await raw();
    garbage.sendText("{not json");
    expect((await garbage.next("FatalError")).error).toMatch(/must be JSON/);
    expect((await garbage.closed).reason).toBe("BadClientMessage");
  });
});

describe("authentication", () => {
  test("a new identity is confirmed by a Transition even with no queries", async () => {
    const c = await raw();
    const token = await running.engine.mintDevToken({ subject: "raw-user" });
    c.send({ type: "Authenticate", baseVersion: 0, tokenType: "User", value: token });
    const confirmation = await c.next("Transition");
    expect(confirmation).toMatchObject({ startVersion: { identity: 0 }, endVersion: { identity: 1, querySet: 0 }, modifications: [] });
  });

  test("a bad token gets AuthError (authUpdateAttempted) and the socket is closed", async () => {
    const c = await raw();
    c.send({ type: "Authenticate", baseVersion: 0, tokenType: "User", value: "not-a-jwt" });
    const error = await c.next("AuthError");
    expect(error).toMatchObject({ baseVersion: 0, authUpdateAttempted: true });
    expect(typeof error.error).toBe("string");
    expect((await c.closed).reason).toBe("AuthError");
  });

  test("the official client given a bad token reports it signed out and carries on anonymously", async () => {
    const client = new ConvexClient(running.engine.cloudUrl, { logger: false });
    try {
      const signedIn = new Promise<boolean>((resolve) => client.setAuth(async () => "not-a-jwt", resolve));
      // The engine refuses the token (AuthError) and closes; the client retries with a fresh
      // token, gets the same one back, and gives up.
      expect(await signedIn).toBe(false);
      const me = liveQuery(client, whoAmI, {});
      expect(await me.until(() => true)).toBeNull();
    } finally {
      await client.close();
    }
  });

  test("a refreshed token for the same user keeps the connection's queries live", async () => {
    const c = await raw();
    c.send({ type: "Authenticate", baseVersion: 0, tokenType: "User", value: await running.engine.mintDevToken({ subject: "refresher" }) });
    await c.next("Transition");
    c.send({ type: "ModifyQuerySet", baseVersion: 0, newVersion: 1, modifications: [addList(0)] });
    await c.next("Transition");
    await running.engine.sync.idle();
    const subscriptions = running.engine.sync.stats().subscriptions;

    // What the official client does before a token expires: the same user, a new token (another `exp`).
    const refreshed = await running.engine.mintDevToken({ subject: "refresher" }, 7200);
    c.send({ type: "Authenticate", baseVersion: 1, tokenType: "User", value: refreshed });
    expect(await c.next("Transition")).toMatchObject({ endVersion: { identity: 2 }, modifications: [] });
    await running.engine.sync.idle();
    expect(running.engine.sync.stats().subscriptions).toBe(subscriptions);

    const id = await new ConvexHttpClient(running.engine.cloudUrl, { logger: false }).mutation(send, { author: "refresher", body: "after the refresh" });
    for (;;) {
      const update = (await c.next("Transition")).modifications as { value: Message[] }[];
      if (update[0]?.value.some((m) => m._id === id)) break;
    }
  });

  test("a token that expires later ends the session with AuthError (authUpdateAttempted: false)", async () => {
    const c = await raw();
    const token = await running.engine.mintDevToken({ subject: "short-lived" }, 1);
    c.send({ type: "Authenticate", baseVersion: 0, tokenType: "User", value: token });
    await c.next("Transition");
    expect(await c.next("AuthError")).toMatchObject({ authUpdateAttempted: false, baseVersion: 1 });
    await c.closed;
  });

  test("the official client signs in, switches user and signs out; queries re-run each time", async () => {
    const client = new ConvexClient(running.engine.cloudUrl, { logger: false });
    try {
      const me = liveQuery(client, whoAmI, {});
      expect(await me.until(() => true)).toBeNull();
      // After the server confirms a cached token, the official client fetches a fresh one
      // (`forceRefreshToken`) and authenticates again. `clearAuth` does not cancel that
      // refetch (convex 1.48's AuthenticationManager), so one landing after it signs the client
      // back in: wait for it before signing out, as a real sign-out long after sign-in does.
      let refetched = Promise.resolve();
      const signIn = (subject: string) => {
        let fresh!: () => void;
        refetched = new Promise<void>((resolve) => (fresh = resolve));
        return new Promise<void>((resolve) =>
          client.setAuth(
            async ({ forceRefreshToken }) => {
              const token = await running.engine.mintDevToken({ subject });
              if (forceRefreshToken) fresh();
              return token;
            },
            (ok) => ok && resolve(),
          ),
        );
      };
      await signIn("ann");
      await me.until((identity) => identity?.subject === "ann");
      await signIn("ben");
      await me.until((identity) => identity?.subject === "ben");
      await refetched;
      // The client sends the fresh token in a continuation of the fetch; let it run first.
      await new Promise((resolve) => setImmediate(resolve));
      client.client.clearAuth();
      await me.until((identity) => identity === null);
    } finally {
      await client.close();
    }
  });

  test("an admin key over the socket may call internal functions; a wrong one gets AuthError", async () => {
    const client = new ConvexClient(running.engine.cloudUrl, { logger: false });
    try {
      // `setAdminAuth` is internal to the package (the dashboard uses it).
      (client as unknown as { setAdminAuth(key: string): void }).setAdminAuth(running.engine.adminKey);
      expect(await client.mutation(internalOnly, {})).toBe("secret");
    } finally {
      await client.close();
    }
    const c = await raw();
    c.send({ type: "Authenticate", baseVersion: 0, tokenType: "Admin", value: "local|wrong" });
    expect(await c.next("AuthError")).toMatchObject({ authUpdateAttempted: true });
  });
});

describe("large results", () => {
  // Last: it stores 5.4 MB of messages that would swamp the other tests' `messages:list`.
  test("a Transition above 5 MB travels as TransitionChunks that the official client reassembles", async () => {
    const http = new ConvexHttpClient(running.engine.cloudUrl, { logger: false });
    const big = "x".repeat(900_000);
    for (let i = 0; i < 6; i++) await http.mutation(send, { author: "big", body: `${i}${big}` });
    const client = new ConvexClient(running.engine.cloudUrl, { logger: false });
    try {
      const chunksBefore = sentTypes.filter((t) => t === "TransitionChunk").length;
      const feed = liveQuery(client, list, {});
      const value = await feed.until((messages) => messages.filter((m) => m.author === "big").length === 6);
      expect(value.filter((m) => m.author === "big").every((m) => m.body.length === 900_001)).toBe(true);
      expect(sentTypes.filter((t) => t === "TransitionChunk").length - chunksBefore).toBeGreaterThanOrEqual(6);
    } finally {
      await client.close();
    }
  });

  test("a client that stops reading gets one Transition for many changes once it catches up", async () => {
    // Only this connection may watch the messages: frames are counted engine-wide.
    const earlier = raws.splice(0);
    for (const r of earlier) r.close();
    await Promise.all(earlier.map((r) => r.closed));
    const c = await raw();
    c.send({ type: "ModifyQuerySet", baseVersion: 0, newVersion: 1, modifications: [addList(0)] });
    c.pause();
    const http = new ConvexHttpClient(running.engine.cloudUrl, { logger: false });
    const chunksBefore = sentTypes.filter((t) => t === "TransitionChunk").length;
    // Enough to overflow the kernel's socket buffers (tens of MB on loopback) several times.
    const CHANGES = 16;
    for (let i = 0; i < CHANGES; i++) {
      await http.mutation(send, { author: "backlog", body: `change ${i}` });
      await running.engine.sync.idle();
    }
    // Each full result is ~5.4 MB in six parts. Once the socket backs up, changes stop producing
    // Transitions: they are absorbed by the one sent when the client reads again.
    const transitionsSent = (sentTypes.filter((t) => t === "TransitionChunk").length - chunksBefore) / 6;
    expect(transitionsSent).toBeLessThanOrEqual(CHANGES - 4);

    c.resume();
    // Reassembled in order, the Transitions chain without a gap and end with every change.
    let version: unknown = { querySet: 0, identity: 0, ts: "AAAAAAAAAAA=" };
    let parts: string[] = [];
    let latest: Message[] = [];
    while (latest.filter((m) => m.author === "backlog").length < CHANGES) {
      const chunk = await c.next("TransitionChunk");
      parts.push(chunk.chunk as string);
      if (parts.length < (chunk.totalParts as number)) continue;
      const transition = JSON.parse(parts.join("")) as { startVersion: unknown; endVersion: unknown; modifications: { value: Message[] }[] };
      parts = [];
      expect(transition.startVersion).toEqual(version);
      version = transition.endVersion;
      latest = transition.modifications[0]!.value;
    }
  });
});
