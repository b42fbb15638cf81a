import { expect, it } from "vitest";
import { api } from "../../convex/_generated/api";
import { USERNAME_MAX } from "../../convex/lib/limits";
import { backendNow, describeEach, type AppBackend } from "./harness";
import { signUp } from "./support/accounts";
import { postImage } from "./support/content";
import {
  clerkEvent,
  clerkUser,
  deliver,
  newMessageId,
  newWebhookSecret,
  postWebhook,
  svixHeaders,
} from "./support/webhooks";

/** The account of Clerk user `clerkId`, as its owner sees it. */
async function accountOf(backend: AppBackend, clerkId: string) {
  return await backend.client(clerkId).query(api.users.getCurrentUser);
}

describeEach(
  "Clerk webhook",
  (get) => {
    let secret = "";
    /** Signing options stamping the backend's current time. */
    const at = async () => ({ timestamp: new Date(await backendNow(get())) });
    const setUp = async () => {
      secret = newWebhookSecret();
      await get().setEnv("CLERK_WEBHOOK_SECRET", secret);
    };

    it("user.created makes the account from Clerk's fields", async () => {
      await setUp();
      const data = clerkUser({
        id: "user_2ada",
        email: "ada@example.com",
        username: "ada_l",
        firstName: "Ada",
        lastName: "Lovelace",
        imageUrl: "https://img.clerk.com/ada.png",
      });
      const response = await deliver(get(), secret, "user.created", data);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ status: "processed" });
      expect(await accountOf(get(), "user_2ada")).toMatchObject({
        clerkId: "user_2ada",
        email: "ada@example.com",
        username: "ada_l",
        fullname: "Ada Lovelace",
        image: "https://img.clerk.com/ada.png",
        followers: 0,
        following: 0,
        posts: 0,
      });
    });

    it("verifies the raw body, not a re-serialization of it", async () => {
      await setUp();
      // Whitespace and key order that JSON.stringify(JSON.parse(body)) would change.
      const body = `{ "type" : "user.created",\n  "object":"event", "data": {"username":"spaced", "id":"user_raw",
        "email_addresses": [] } }`;
      const response = await postWebhook(get(), body, svixHeaders(secret, body, await at()));
      expect(response.status).toBe(200);
      expect((await accountOf(get(), "user_raw"))?.username).toBe("spaced");
    });

    it("rejects a tampered body, a wrong secret, and a stale or future timestamp with 400", async () => {
      await setUp();
      const body = clerkEvent("user.created", clerkUser({ id: "user_evil", email: "e@example.com" }));
      const tampered = body.replace("e@example.com", "admin@example.com");
      expect((await postWebhook(get(), tampered, svixHeaders(secret, body, await at()))).status).toBe(400);

      const other = newWebhookSecret();
      expect((await postWebhook(get(), body, svixHeaders(other, body, await at()))).status).toBe(400);

      const stale = new Date((await backendNow(get())) - 10 * 60 * 1000);
      expect((await postWebhook(get(), body, svixHeaders(secret, body, { timestamp: stale }))).status).toBe(400);
      const future = new Date((await backendNow(get())) + 10 * 60 * 1000);
      expect((await postWebhook(get(), body, svixHeaders(secret, body, { timestamp: future }))).status).toBe(400);

      expect(await get().documents("users")).toEqual([]);
      expect(await get().documents("webhookEvents")).toEqual([]);
    });

    it("rejects deliveries missing any svix header with 400", async () => {
      await setUp();
      const body = clerkEvent("user.created", clerkUser({ id: "user_nohdr" }));
      const headers = svixHeaders(secret, body, await at());
      for (const missing of ["svix-id", "svix-timestamp", "svix-signature"]) {
        const partial = { ...headers };
        delete partial[missing];
        const response = await postWebhook(get(), body, partial);
        expect(response.status, missing).toBe(400);
        expect((await response.json()).error).toMatch(/svix/);
      }
      expect(await get().documents("users")).toEqual([]);
    });

    it("answers 500 with a clear message when CLERK_WEBHOOK_SECRET is not set", async () => {
      const body = clerkEvent("user.created", clerkUser({ id: "user_nosecret" }));
      const response = await postWebhook(get(), body, svixHeaders(newWebhookSecret(), body, await at()));
      expect(response.status).toBe(500);
      expect((await response.json()).error).toMatch(/CLERK_WEBHOOK_SECRET/);
      expect(await get().documents("users")).toEqual([]);
    });

    it("a replayed svix-id is acknowledged without doing the work twice", async () => {
      await setUp();
      const body = clerkEvent("user.created", clerkUser({ id: "user_once", username: "once" }));
      const headers = svixHeaders(secret, body, { msgId: newMessageId(), ...(await at()) });
      expect(await (await postWebhook(get(), body, headers)).json()).toEqual({ status: "processed" });
      const replay = await postWebhook(get(), body, headers);
      expect(replay.status).toBe(200);
      expect(await replay.json()).toEqual({ status: "duplicate" });
      expect(await get().documents("users")).toHaveLength(1);
      expect(await get().documents("webhookEvents")).toHaveLength(1);
    });

    it("a user.created re-sent under a new svix-id still makes one account", async () => {
      await setUp();
      const data = clerkUser({ id: "user_twice", username: "twice" });
      await deliver(get(), secret, "user.created", data);
      await deliver(get(), secret, "user.created", data);
      expect(await get().documents("users")).toHaveLength(1);
    });

    it("user.updated syncs email and picture, and the name only when it changed in Clerk", async () => {
      await setUp();
      const created = { id: "user_upd", email: "old@example.com", username: "upd", firstName: "Old", lastName: "Name" };
      await deliver(get(), secret, "user.created", clerkUser(created));
      const client = get().client("user_upd");
      await client.mutation(api.users.updateProfile, { fullname: "Chosen Name", bio: "hello" });

      // A new picture and email in Clerk; the name there is unchanged.
      const picture = { ...created, email: "new@example.com", imageUrl: "https://img.clerk.com/new.png" };
      expect((await deliver(get(), secret, "user.updated", clerkUser(picture))).status).toBe(200);
      expect(await accountOf(get(), "user_upd")).toMatchObject({
        email: "new@example.com",
        image: "https://img.clerk.com/new.png",
        username: "upd",
        fullname: "Chosen Name",
        bio: "hello",
      });

      // The name changes in Clerk: the latest edit wins. Username and bio stay the app's.
      const renamed = { ...picture, firstName: "Augusta", lastName: "King", username: "renamed_in_clerk" };
      await deliver(get(), secret, "user.updated", clerkUser(renamed));
      expect(await accountOf(get(), "user_upd")).toMatchObject({ fullname: "Augusta King", username: "upd", bio: "hello" });
    });

    it("user.updated for an unknown user creates the account (it outran user.created)", async () => {
      await setUp();
      await deliver(get(), secret, "user.updated", clerkUser({ id: "user_early", username: "early" }));
      expect((await accountOf(get(), "user_early"))?.username).toBe("early");
    });

    it("user.deleted removes the account and everything in it", async () => {
      await setUp();
      await deliver(get(), secret, "user.created", clerkUser({ id: "user_gone", username: "gone" }));
      const gone = await signUp(get(), { clerkId: "user_gone" });
      const bob = await signUp(get());
      const postId = await postImage(get(), gone);
      await bob.client.mutation(api.users.toggleFollow, { followingId: gone.id });
      await bob.client.mutation(api.posts.toggleLike, { postId });

      const response = await deliver(get(), secret, "user.deleted", { id: "user_gone", object: "user", deleted: true });
      expect(response.status).toBe(200);
      expect(await accountOf(get(), "user_gone")).toBeNull();
      await get().drainScheduled();
      expect(await get().documents("posts")).toEqual([]);
      expect(await get().documents("likes")).toEqual([]);
      expect(await get().documents("_storage")).toEqual([]);
      expect(await bob.client.query(api.users.getCurrentUser)).toMatchObject({ following: 0 });
      // Deleting someone who is already gone is fine.
      const again = await deliver(get(), secret, "user.deleted", { id: "user_gone", deleted: true });
      expect(again.status).toBe(200);
    });

    it("a user without an email address gets an account all the same", async () => {
      await setUp();
      const response = await deliver(get(), secret, "user.created", clerkUser({ id: "user_phone", firstName: "Pho", lastName: "Ne" }));
      expect(response.status).toBe(200);
      expect(await accountOf(get(), "user_phone")).toMatchObject({ email: "", username: "phone", fullname: "Pho Ne" });
      await deliver(get(), secret, "user.created", clerkUser({ id: "user_bare" }));
      expect(await accountOf(get(), "user_bare")).toMatchObject({ email: "", username: "user", fullname: "user" });
    });

    it("username collisions and unusable usernames become valid, unique usernames", async () => {
      await setUp();
      for (const id of ["user_c1", "user_c2", "user_c3"]) {
        const response = await deliver(get(), secret, "user.created", clerkUser({ id, email: "sam@example.com" }));
        expect(response.status).toBe(200);
      }
      await deliver(get(), secret, "user.created", clerkUser({ id: "user_odd", username: "Ünï Cödé-Name!!" }));
      await deliver(get(), secret, "user.created", clerkUser({ id: "user_long", username: "x".repeat(80) }));

      const names = [];
      for (const id of ["user_c1", "user_c2", "user_c3", "user_odd", "user_long"]) {
        names.push((await accountOf(get(), id))!.username);
      }
      expect(names[0]).toBe("sam");
      expect(new Set(names).size).toBe(names.length);
      for (const name of names) {
        expect(name).toMatch(/^[a-z0-9._]+$/);
        expect(name.length).toBeLessThanOrEqual(USERNAME_MAX);
      }
      expect(names[1]).toMatch(/^sam\d+$/);
      expect(names[3]).toBe("unicodename");
      expect(names[4]).toBe("x".repeat(USERNAME_MAX));
    });

    it("unknown event types are acknowledged and ignored", async () => {
      await setUp();
      const response = await deliver(get(), secret, "session.created", { id: "sess_1", user_id: "user_x" });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ status: "ignored" });
      expect(await get().documents("users")).toEqual([]);
    });

    it("signed but malformed events are refused with 400, never a crash", async () => {
      await setUp();
      const cases: [string, RegExp][] = [
        ["not json", /not valid JSON/],
        [JSON.stringify({ data: {} }), /type/],
        [clerkEvent("user.created", { email_addresses: [] }), /data\.id/],
        [clerkEvent("user.deleted", null), /data\.id/],
      ];
      for (const [body, reason] of cases) {
        const response = await postWebhook(get(), body, svixHeaders(secret, body, await at()));
        expect(response.status, body).toBe(400);
        expect((await response.json()).error).toMatch(reason);
      }
      expect(await get().documents("users")).toEqual([]);
    });
  },
);
