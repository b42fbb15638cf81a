import { ConvexHttpClient } from "convex/browser";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { MAX_CLIENT_FRAME, type SyncServerOptions } from "../../packages/engine/src/sync/sync-server";
import { startInstagramSync, type InstagramSync } from "./sync-support/instagram-engine";
import { liveQuery } from "../../packages/engine/test/sync-support/live-query";
import { openRawSync, type RawSyncClient } from "../../packages/engine/test/sync-support/raw-sync-client";

/**
 * The attack table's WebSocket rows (a sibling of `attack-table.test.ts`):
 * one client misbehaving on its socket (not reading, flooding, oversized or
 * deeply nested frames, thousands of subscriptions) is bounded, refused or
 * cut off with a clear answer, and other connections keep their updates.
 * Everything runs against a started engine over loopback: the official
 * client where it matters that it recovers, a bare socket where the attack
 * is something the official client never does.
 */

const raws: RawSyncClient[] = [];
afterEach(() => {
  for (const raw of raws.splice(0)) raw.close();
});

async function connect(app: InstagramSync): Promise<RawSyncClient> {
  const raw = await openRawSync(app.cloudUrl);
  raws.push(raw);
  raw.send({ type: "Connect", sessionId: crypto.randomUUID(), connectionCount: 0, lastCloseReason: "InitialConnect", clientTs: Date.now() });
  return raw;
}

const add = (queryId: number, udfPath: string, args: Record<string, unknown>) => ({ type: "Add", queryId, udfPath, args: [args] });
const subscribe = (raw: RawSyncClient, modifications: unknown[]) =>
  raw.send({ type: "ModifyQuerySet", baseVersion: 0, newVersion: 1, modifications });

/** A liker who toggles one post's like: every call changes the feed. */
async function liker(app: InstagramSync, name: string): Promise<ConvexHttpClient> {
  await app.createUser(name);
  const client = new ConvexHttpClient(app.cloudUrl, { logger: false });
  client.setAuth(await app.token(name));
  return client;
}

describe("clients that stop reading", () => {
  const GATE = 256 << 10;
  let app: InstagramSync;
  /** Bytes the engine handed to sockets, per connection. */
  const sent = new Map<object, number>();
  let author: Id<"users">;

  beforeAll(async () => {
    const sync: SyncServerOptions = {
      flow: { transitionGateBytes: GATE },
      beforeSend: (frame, connection) => void sent.set(connection, (sent.get(connection) ?? 0) + Buffer.byteLength(frame)),
    };
    app = await startInstagramSync({ sync });
    author = (await app.createUser("author")) as Id<"users">;
    // Long captions: every feed Transition is ~45 KB.
    for (let i = 0; i < 20; i++) await app.seedPost(author, `post ${i} ${"x".repeat(2_000)}`);
  });
  afterAll(async () => {
    await app?.close();
  });

  test("a subscriber that stops reading is sent about one gate's worth, then one Transition that covers every change", async () => {
    const before = new Set(sent.keys());
    const paused = await connect(app);
    subscribe(paused, [add(0, "posts:getFeedPosts", {})]);
    const first = await paused.next("Transition");
    const connection = [...sent.keys()].find((c) => !before.has(c))!;
    paused.pause();

    const post = (await app.seedPost(author, "liked")) as Id<"posts">;
    const fan = await liker(app, "fan");
    const LIKES = 40;
    for (let i = 0; i < LIKES; i++) {
      await fan.mutation(api.posts.toggleLike, { postId: post });
      await app.running.engine.sync.idle();
    }
    // 41 feed results of ~45 KB were due; the engine stopped at the gate (the client confirmed
    // nothing past its first Transition), plus the one that crossed it.
    const transitionBytes = JSON.stringify(first).length;
    expect(sent.get(connection)!).toBeLessThan(GATE + 3 * transitionBytes);
    expect(app.running.engine.sync.stats().bufferedBytes).toBeLessThan(GATE + 3 * transitionBytes);

    // Reading again, the client gets Transitions that chain from its version and end at the latest state.
    paused.resume();
    let version = first.endVersion;
    for (;;) {
      const transition = await paused.next("Transition");
      expect(transition.startVersion).toEqual(version);
      version = transition.endVersion;
      const feed = (transition.modifications as { value: { _id: string; likes: number }[] }[])[0]?.value;
      if (feed?.find((p) => p._id === post)?.likes === 0) break; // an even number of toggles
    }
  });

  test("the same Transition for many subscribers is encoded once", async () => {
    const viewers = await Promise.all(Array.from({ length: 10 }, () => connect(app)));
    for (const viewer of viewers) subscribe(viewer, [add(0, "posts:getFeedPosts", {})]);
    await Promise.all(viewers.map((v) => v.next("Transition")));
    await app.running.engine.sync.idle();
    const post = (await app.seedPost(author, "shared")) as Id<"posts">;
    await Promise.all(viewers.map((v) => v.next("Transition")));
    const fan = await liker(app, "sharer");
    const before = app.running.engine.sync.stats();
    await fan.mutation(api.posts.toggleLike, { postId: post });
    const updates = await Promise.all(viewers.map((v) => v.next("Transition")));
    const after = app.running.engine.sync.stats();
    expect(new Set(updates.map((u) => JSON.stringify(u))).size).toBe(1);
    expect(after.transitionsSent - before.transitionsSent).toBeGreaterThanOrEqual(viewers.length);
    expect(after.transitionsEncoded - before.transitionsEncoded).toBe(1);
  });
});

describe("clients cut off for their backlog", () => {
  let app: InstagramSync;
  let author: Id<"users">;

  beforeAll(async () => {
    // A tiny backlog bound: the second frame a client has not confirmed reading ends the connection.
    app = await startInstagramSync({ sync: { flow: { maxUnackedBytes: 1 } } });
    author = (await app.createUser("author")) as Id<"users">;
  });
  afterAll(async () => {
    await app?.close();
  });

  test("past its backlog bound a client is closed with 1013 and a reason", async () => {
    const post = (await app.seedPost(author, "cut")) as Id<"posts">;
    const paused = await connect(app);
    subscribe(paused, [add(0, "posts:getPost", { postId: post })]);
    await paused.next("Transition");
    paused.pause();
    const fan = await liker(app, "cutter");
    while (app.running.engine.sync.stats().flowCuts.unacked === 0) {
      await fan.mutation(api.posts.toggleLike, { postId: post });
      await app.running.engine.sync.idle();
    }
    paused.resume();
    expect(await paused.closed).toMatchObject({ code: 1013, reason: expect.stringMatching(/^SlowClient/) });
  });

  test("the official client reconnects after such a close and catches up", async () => {
    const post = (await app.seedPost(author, "reconnect")) as Id<"posts">;
    const viewer = await app.client(null);
    const view = liveQuery(viewer, api.posts.getPost, { postId: post });
    await view.until((p) => p?.likes === 0);
    const cutsBefore = app.running.engine.sync.stats().flowCuts.unacked;
    const fan = await liker(app, "reconnecter");
    await fan.mutation(api.posts.toggleLike, { postId: post });
    // The update is the connection's second frame: it is cut instead, and the client's new connection
    // (it resubscribes from scratch) shows the like.
    await view.until((p) => p?.likes === 1);
    expect(app.running.engine.sync.stats().flowCuts.unacked).toBeGreaterThan(cutsBefore);
  });
});

describe("floods from one connection", () => {
  let app: InstagramSync;
  let author: Id<"users">;

  beforeAll(async () => {
    app = await startInstagramSync();
    author = (await app.createUser("author")) as Id<"users">;
    for (let i = 0; i < 10; i++) await app.seedPost(author, `post ${i}`);
  });
  afterAll(async () => {
    await app?.close();
  });

  const runsOf = (path: string) => app.running.engine.sync.stats().queryRunsByPath[path] ?? 0;

  test("a socket with a thousand subscriptions does not hold up another user's subscribe or updates", async () => {
    const post = (await app.seedPost(author, "watched")) as Id<"posts">;
    const flooder = await connect(app);
    const PAGES = 1_000;
    // Distinct pagination ids: a thousand subscriptions that each read the whole feed.
    const pages = Array.from({ length: PAGES }, (_, i) => add(i, "posts:getGlobalFeed", { paginationOpts: { numItems: 5, cursor: null, id: i } }));
    const feedRunsBefore = runsOf("posts:getGlobalFeed");
    subscribe(flooder, pages);
    const bystander = await app.client(null);
    const view = liveQuery(bystander, api.posts.getPost, { postId: post });

    // Served in turn with the flooder, not after it.
    await view.until((p) => p?.likes === 0);
    expect(runsOf("posts:getGlobalFeed") - feedRunsBefore).toBeLessThan(PAGES / 4);
    await flooder.next("Transition");
    await app.running.engine.sync.idle();

    // A like invalidates all thousand pages and the bystander's post; the bystander is answered first.
    const fan = await liker(app, "flood-fan");
    const afterSubscribe = runsOf("posts:getGlobalFeed");
    await fan.mutation(api.posts.toggleLike, { postId: post });
    await view.until((p) => p?.likes === 1);
    expect(runsOf("posts:getGlobalFeed") - afterSubscribe).toBeLessThan(PAGES / 4);
    await flooder.next("Transition");
  });

  test("past 4,096 live queries on one connection, further queries fail with TooManyQueries", async () => {
    const greedy = await connect(app);
    const LIMIT = 4_096;
    const queries = Array.from({ length: LIMIT + 1 }, (_, i) => add(i, "users:getUserByClerkId", { clerkId: "nobody" }));
    subscribe(greedy, queries);
    const transition = await greedy.next("Transition");
    const modifications = transition.modifications as { type: string; queryId: number; errorMessage?: string }[];
    expect(modifications.filter((m) => m.type === "QueryUpdated")).toHaveLength(LIMIT);
    expect(modifications.filter((m) => m.type === "QueryFailed")).toEqual([
      expect.objectContaining({ queryId: LIMIT, errorMessage: expect.stringMatching(/^TooManyQueries: .*4096 live queries/) }),
    ]);
  });

  test("a mutation flood past 1,000 pending mutations closes the connection with 1013 TooManyConcurrentMutations", async () => {
    const flooder = await connect(app);
    const frame = (requestId: number) => JSON.stringify({ type: "Mutation", requestId, udfPath: "users:updateProfile", args: [{ fullname: "flood" }] });
    for (let i = 0; i < 2_000; i++) flooder.sendText(frame(i));
    expect(await flooder.closed).toMatchObject({ code: 1013, reason: expect.stringMatching(/^TooManyConcurrentMutations/) });
    // Everyone else is still served.
    const http = new ConvexHttpClient(app.cloudUrl, { logger: false });
    expect(await http.query(api.users.getUserByClerkId, { clerkId: "author" })).toMatchObject({ username: "author" });
  });
});

describe("bytes waiting to be handled", () => {
  let app: InstagramSync;

  beforeAll(async () => {
    // Few work units and a slow refill: a frame's units are paid before it is handled, so big
    // frames wait in memory; at most 1 MiB may wait over all connections.
    app = await startInstagramSync({ sync: { quota: { burstUnits: 10, unitsPerSecond: 1, maxTotalQueuedBytes: 1 << 20 } } });
  });
  afterAll(async () => {
    await app?.close();
  });

  test("connections whose frames wait are closed, the largest first, once the total passes its bound; others go on", async () => {
    const frame = (size: number) => JSON.stringify({ type: "Mutation", requestId: 0, udfPath: "users:updateProfile", args: [{ fullname: "x".repeat(size) }] });
    const first = await connect(app);
    first.sendText(frame(400_000));
    const second = await connect(app);
    second.sendText(frame(700_000));
    expect(await second.closed).toMatchObject({ code: 1013, reason: expect.stringMatching(/^ServerBusy/) });
    expect(app.running.engine.sync.stats().busyCuts).toBe(1);
    // The first connection's frame is still waiting for its units; the connection is open.
    const bystander = await connect(app);
    bystander.send({ type: "ModifyQuerySet", baseVersion: 0, newVersion: 1, modifications: [] });
    await bystander.next("Transition");
    expect(first.received.some((m) => m.type === "FatalError")).toBe(false);
  });
});

describe("frames that are too big or too deep", () => {
  let app: InstagramSync;
  let author: Id<"users">;

  beforeAll(async () => {
    app = await startInstagramSync();
    author = (await app.createUser("author")) as Id<"users">;
  });
  afterAll(async () => {
    await app?.close();
  });

  test("a frame above the JSON of Convex's 16 MiB argument limit is refused with 1009 before it is read", async () => {
    const big = await connect(app);
    const envelope = JSON.stringify({ type: "Mutation", requestId: 0, udfPath: "users:updateProfile", args: [{ fullname: "" }] });
    big.sendText(envelope.replace('"fullname":""', `"fullname":"${"x".repeat(MAX_CLIENT_FRAME + 1 - envelope.length)}"`));
    expect((await big.closed).code).toBe(1009);
  });

  test("arguments nested 20,000 deep are refused at the door while another client subscribing at the same moment is answered", async () => {
    const post = (await app.seedPost(author, "bystander")) as Id<"posts">;
    const attacker = await connect(app);
    const bystander = await connect(app);
    const deep = `${"[".repeat(20_000)}1${"]".repeat(20_000)}`;
    // Both arrive together, so they would be handled in one update round.
    attacker.sendText(`{"type":"ModifyQuerySet","baseVersion":0,"newVersion":1,"modifications":[{"type":"Add","queryId":0,"udfPath":"posts:getPost","args":[{"postId":${deep}}]}]}`);
    subscribe(bystander, [add(0, "posts:getPost", { postId: post })]);
    expect((await attacker.next("FatalError")).error).toMatch(/nests deeper than 80 levels: a value may nest at most 64 levels/);
    expect((await attacker.closed).reason).toBe("TooNestedError");
    const answer = await bystander.next("Transition");
    expect((answer.modifications as { value: { _id: string } }[])[0]!.value._id).toBe(post);
  });

  test("a 6 MB frame of brackets, which would take JSON.parse seconds, is refused as too nested", async () => {
    const attacker = await connect(app);
    const levels = 3_000_000;
    attacker.sendText(`${"[".repeat(levels)}${"]".repeat(levels)}`);
    expect((await attacker.closed).reason).toBe("TooNestedError");
  });

  test("a frame with more values than the parser budget is refused as FrameTooComplex", async () => {
    const attacker = await connect(app);
    const many = Array.from({ length: 140_000 }, () => [0]);
    attacker.send({ type: "Mutation", requestId: 0, udfPath: "users:updateProfile", args: [{ fullname: "x", many }] });
    expect((await attacker.next("FatalError")).error).toMatch(/at most 131072 values/);
    expect((await attacker.closed).reason).toBe("FrameTooComplex");
  });
});

describe("identity follows the auth configuration", () => {
  let app: InstagramSync;

  beforeAll(async () => {
    // No Clerk domain yet: the engine's dev issuer signs tokens.
    app = await startInstagramSync({ env: { CLERK_JWT_ISSUER_DOMAIN: "" } });
  });
  afterAll(async () => {
    await app?.close();
  });

  test("when Clerk gets configured, a socket signed in with a dev token gets AuthError and can no longer act as that user", async () => {
    const { engine } = app.running;
    await app.createUser("dev_user");
    const devToken = await engine.mintDevToken({ subject: "dev_user" });
    const client = await app.client(null);
    const signedIn: boolean[] = [];
    await new Promise<void>((resolve) =>
      client.setAuth(
        async () => devToken,
        (ok) => {
          signedIn.push(ok);
          if (ok) resolve();
        },
      ),
    );
    const me = liveQuery(client, api.users.getCurrentUser, {});
    await me.until((user) => user?.username === "dev_user");
    expect(await client.mutation(api.users.updateProfile, { fullname: "Before" })).toBeNull();

    // The operator configures Clerk: the dev issuer stops signing for this deployment.
    await engine.app.setEnv("CLERK_JWT_ISSUER_DOMAIN", app.issuer.issuer);
    // The open socket's token is checked again and refused; the client gives up on it and goes on signed out.
    await me.until((user) => user === null);
    expect(signedIn.at(-1)).toBe(false);
    await expect(client.mutation(api.users.updateProfile, { fullname: "After" })).rejects.toThrow(/UNAUTHENTICATED|sign in/i);
    const http = new ConvexHttpClient(app.cloudUrl, { logger: false });
    expect(await http.query(api.users.getUserByClerkId, { clerkId: "dev_user" })).toMatchObject({ fullname: "Before" });
  });

  test("the raw protocol: AuthError (authUpdateAttempted: false) at the current identity version, then the socket closes", async () => {
    const { engine } = app.running;
    await engine.app.setEnv("CLERK_JWT_ISSUER_DOMAIN", "");
    const raw = await connect(app);
    raw.send({ type: "Authenticate", baseVersion: 0, tokenType: "User", value: await engine.mintDevToken({ subject: "raw_dev" }) });
    await raw.next("Transition");
    await engine.app.setEnv("CLERK_JWT_ISSUER_DOMAIN", app.issuer.issuer);
    expect(await raw.next("AuthError")).toMatchObject({ authUpdateAttempted: false, baseVersion: 1 });
    expect((await raw.closed).reason).toBe("AuthError");
  });
});
