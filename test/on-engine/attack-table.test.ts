import { ConvexHttpClient } from "convex/browser";
import { ConvexError } from "convex/values";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { uniquePng } from "../app/support/images";
import { clerkEvent, clerkUser, newWebhookSecret, svixHeaders } from "../app/support/webhooks";
import { adminClient } from "../../packages/engine/test/support/admin-client";
import { startTestEngine, type TestEngine } from "../support/app-engine";
import { startTestIssuer, type TestIssuer } from "../../packages/engine/test/support/test-issuer";
import { drainScheduler } from "../../packages/engine/test/scheduler-support/scheduler-helpers";

/**
 * The attack table: each attempt against the running engine is refused with a
 * clear error and changes nothing (the commit clock does not move). The
 * engine runs as `npm start` runs it (not in dev mode), so function failures
 * reach the attacker as `Server Error` and the reason stays in its log. The
 * README's attack table lists these rows.
 */
describe("attack table", () => {
  let running: TestEngine;
  let issuer: TestIssuer;
  const secret = newWebhookSecret();
  let alice: ConvexHttpClient;
  let bob: ConvexHttpClient;
  let alicePost: Id<"posts">;
  let aliceComment: Id<"comments">;
  let aliceNotification: Id<"notifications">;
  /** The engine's error log: redacted failures are explained there. */
  const logged: string[] = [];

  beforeAll(async () => {
    issuer = await startTestIssuer();
    running = await startTestEngine({
      dev: false,
      env: { CLERK_JWT_ISSUER_DOMAIN: issuer.issuer, CLERK_WEBHOOK_SECRET: secret },
      logger: { info: () => {}, warn: () => {}, error: (message) => logged.push(message) },
    });
    const admin = adminClient(running.engine.cloudUrl, running.engine.adminKey);
    await admin.mutation(internal.users.createUser, { clerkId: "user_alice", username: "alice" });
    await admin.mutation(internal.users.createUser, { clerkId: "user_bob", username: "bob" });
    alice = await signedIn("user_alice");
    bob = await signedIn("user_bob");
    const url = await alice.mutation(api.posts.generateUploadUrl, {});
    const upload = await fetch(url, { method: "POST", headers: { "Content-Type": "image/png" }, body: uniquePng() as unknown as BodyInit });
    const { storageId } = (await upload.json()) as { storageId: Id<"_storage"> };
    alicePost = await alice.mutation(api.posts.createPost, { storageId, caption: "mine" });
    // Bob sees (and can like) the post once its photo is processed.
    await drainScheduler(running.engine, { advanceClock: false });
    aliceComment = await alice.mutation(api.comments.addComment, { postId: alicePost, content: "my comment" });
    await bob.mutation(api.posts.toggleLike, { postId: alicePost });
    await alice.mutation(api.bookmarks.toggleBookmark, { postId: alicePost });
    const notifications = await alice.query(api.notifications.getNotifications, {});
    aliceNotification = notifications[0]!._id;
  }, 60_000);
  afterAll(async () => {
    await running?.close();
    await issuer?.close();
  });

  async function signedIn(clerkId: string): Promise<ConvexHttpClient> {
    const client = new ConvexHttpClient(running.engine.cloudUrl, { logger: false });
    client.setAuth(await issuer.mint({ sub: clerkId }));
    return client;
  }

  /** Runs an attack; asserts the commit clock did not move; returns its outcome for further checks. */
  async function refused<T>(attack: () => Promise<T>): Promise<T> {
    const before = running.engine.store.lastCommitTs();
    const outcome = await attack();
    expect(running.engine.store.lastCommitTs(), "the attack committed a write").toBe(before);
    return outcome;
  }

  const callWithToken = (token: string) =>
    fetch(`${running.engine.cloudUrl}/api/mutation`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
      body: JSON.stringify({ path: "users:updateProfile", args: [{ fullname: "Mallory" }] }),
    });

  const jwtAttacks: [string, () => Promise<string>, RegExp][] = [
    ["JWT with a bad signature", () => issuer.mintTampered({ sub: "user_alice" }), /signature|verify/i],
    ["JWT signed by a foreign key under a known kid", () => issuer.mintForged({ sub: "user_alice" }), /signature|verify/i],
    ["expired JWT", () => issuer.mintExpired({ sub: "user_alice" }), /expired/i],
    ["JWT not yet valid", () => issuer.mintNotYetValid({ sub: "user_alice" }), /not (yet )?valid|nbf/i],
    ["JWT from the wrong issuer", () => issuer.mintWrongIssuer({ sub: "user_alice" }), /issuer|provider/i],
    ["JWT for the wrong audience", () => issuer.mintWrongAudience({ sub: "user_alice" }), /audience|provider/i],
    ["JWT with alg: none", () => issuer.mintUnsigned({ sub: "user_alice" }), /unsigned|none|alg/i],
    ["JWT signed by an unknown key", () => issuer.mintWithUnknownKey({ sub: "user_alice" }), /key|kid/i],
  ];
  for (const [name, mint, reason] of jwtAttacks) {
    test(`${name} is refused with 401`, async () => {
      const token = await mint();
      const response = await refused(() => callWithToken(token));
      expect(response.status).toBe(401);
      const body = (await response.json()) as { code: string; message: string };
      expect(body.message).toMatch(reason);
      expect(body.message).not.toContain(token);
    });
  }

  const webhook = (body: string, headers: Record<string, string>) =>
    fetch(`${running.engine.siteUrl}/clerk-webhook`, { method: "POST", headers, body });
  const newUserEvent = (id: string) => clerkEvent("user.created", clerkUser({ id, email: `${id}@example.com` }));

  test("webhook with a bad signature is refused with 400", async () => {
    const body = newUserEvent("user_forged");
    const headers = svixHeaders(newWebhookSecret(), body);
    const response = await refused(() => webhook(body, headers));
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/signature/i);
  });

  test("webhook with a tampered body is refused with 400", async () => {
    const body = newUserEvent("user_tampered");
    const headers = svixHeaders(secret, body);
    const response = await refused(() => webhook(body.replace("user_tampered", "user_evil"), headers));
    expect(response.status).toBe(400);
  });

  test("webhook with a stale timestamp is refused with 400", async () => {
    const body = newUserEvent("user_stale");
    const headers = svixHeaders(secret, body, { timestamp: new Date(Date.now() - 10 * 60_000) });
    const response = await refused(() => webhook(body, headers));
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/timestamp|old/i);
  });

  test("webhook with a missing header is refused with 400", async () => {
    const body = newUserEvent("user_headless");
    const { "svix-signature": _dropped, ...headers } = svixHeaders(secret, body);
    const response = await refused(() => webhook(body, headers));
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/missing/i);
  });

  test("a replayed webhook (same svix-id) is acknowledged but does nothing", async () => {
    const body = newUserEvent("user_replayed");
    const headers = svixHeaders(secret, body);
    expect((await webhook(body, headers)).status).toBe(200);
    const replay = await refused(() => webhook(body, headers));
    expect(replay.status).toBe(200);
    expect(await replay.json()).toEqual({ status: "duplicate" });
  });

  test("a webhook body over the size limit is refused with 413", async () => {
    const body = JSON.stringify({ type: "user.created", data: { id: "user_big", padding: "x".repeat(21 * 1024 * 1024) } });
    const response = await refused(() => webhook(body, svixHeaders(secret, body)));
    expect(response.status).toBe(413);
  });

  test("an internal function called from ConvexHttpClient is not found (and the caller learns only a request id)", async () => {
    const anonymous = new ConvexHttpClient(running.engine.cloudUrl, { logger: false });
    const error = await refused(() =>
      (anonymous as unknown as { mutation(r: unknown, a: unknown): Promise<unknown> })
        .mutation(internal.users.createUser, { clerkId: "user_sneaky" })
        .then(() => null, (e: Error) => e),
    );
    const requestId = /^\[Request ID: ([0-9a-f]{16})\] Server Error$/.exec(error?.message ?? "")?.[1];
    expect(requestId, error?.message).toBeDefined();
    expect(logged.find((line) => line.includes(requestId!))).toMatch(/Could not find public function for 'users:createUser'/);
  });

  test("the dev token endpoint does not exist outside dev mode", async () => {
    const response = await refused(() =>
      fetch(`${running.engine.cloudUrl}/api/dev/token`, { method: "POST", body: JSON.stringify({ subject: "user_alice" }) }),
    );
    expect(response.status).toBe(403);
    expect(await response.text()).toMatch(/dev mode/);
  });

  const forbidden: [string, () => Promise<unknown>][] = [
    ["deleting another user's post", () => bob.mutation(api.posts.deletePost, { postId: alicePost })],
    ["editing another user's caption", () => bob.mutation(api.posts.updateCaption, { postId: alicePost, caption: "pwned" })],
    ["deleting another user's comment", () => bob.mutation(api.comments.deleteComment, { commentId: aliceComment })],
    ["marking another user's notification read", () => bob.mutation(api.notifications.markRead, { notificationId: aliceNotification })],
  ];
  for (const [name, attack] of forbidden) {
    test(`${name} is FORBIDDEN`, async () => {
      const error = await refused(() => attack().then(() => null, (e: unknown) => e));
      expect(error).toBeInstanceOf(ConvexError);
      expect((error as ConvexError<{ code: string }>).data.code).toBe("FORBIDDEN");
    });
  }

  test("another user's bookmarks and notifications are never readable", async () => {
    // The read APIs take no user id: each caller only ever sees their own.
    expect(await bob.query(api.bookmarks.getBookmarkedPosts, {})).toEqual([]);
    expect((await bob.query(api.notifications.getNotifications, {})).some((n) => n._id === aliceNotification)).toBe(false);
    const profile = await bob.query(api.users.getUserByClerkId, { clerkId: "user_alice" });
    expect(profile).not.toHaveProperty("email");
    expect(profile).not.toHaveProperty("clerkId");
  });
});
