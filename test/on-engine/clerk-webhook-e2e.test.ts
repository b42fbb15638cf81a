import { ConvexHttpClient } from "convex/browser";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { uniquePng } from "../app/support/images";
import { clerkEvent, clerkUser, newWebhookSecret, svixHeaders } from "../app/support/webhooks";
import { spawnEngine, type EngineProcess } from "../../packages/engine/test/support/engine-process";
import { APP_DIR } from "../support/app-engine";
import { startTestIssuer, type TestIssuer } from "../../packages/engine/test/support/test-issuer";

const BIN = fileURLToPath(new URL("../../packages/engine/bin/convex-local.mjs", import.meta.url));
const run = promisify(execFile);

/**
 * Sign-up on a self-hosted deployment, the way a new user sets it up from the
 * README: start the engine, `env set` the webhook secret and the Clerk issuer,
 * point Clerk at `<site>/clerk-webhook`. Clerk's deliveries are signed with
 * the svix library; its JWTs come from a loopback issuer standing in for Clerk.
 */
describe("Clerk sign-up end to end on the engine", () => {
  let issuer: TestIssuer;
  let dataDir: string;
  let engine: EngineProcess;
  const secret = newWebhookSecret();

  beforeAll(async () => {
    issuer = await startTestIssuer();
    dataDir = mkdtempSync(path.join(tmpdir(), "engine-clerk-"));
    engine = await spawnEngine({ appDir: APP_DIR, dataDir });
    // Set through the CLI, which reaches the running engine's admin API.
    await run(process.execPath, [BIN, "env", "set", "CLERK_WEBHOOK_SECRET", secret, "--data", dataDir]);
    await run(process.execPath, [BIN, "env", "set", "CLERK_JWT_ISSUER_DOMAIN", issuer.issuer, "--data", dataDir]);
    const { stdout } = await run(process.execPath, [BIN, "env", "list", "--data", dataDir]);
    expect(stdout).toContain(`CLERK_WEBHOOK_SECRET=${secret}`);
  }, 60_000);
  afterAll(async () => {
    await engine?.stop();
    await issuer?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const deliver = async (type: string, data: unknown) => {
    const body = clerkEvent(type, data);
    return fetch(`${engine.siteUrl}/clerk-webhook`, { method: "POST", headers: svixHeaders(secret, body), body });
  };
  const asUser = async (clerkId: string) => {
    const client = new ConvexHttpClient(engine.cloudUrl, { logger: false });
    client.setAuth(await issuer.mint({ sub: clerkId }));
    return client;
  };

  test("user.created → sign in and post → user.updated shows in the feed → user.deleted removes every trace", async () => {
    // A follower who stays, to check the other side's counters.
    expect((await deliver("user.created", clerkUser({ id: "user_stays", email: "stays@example.com", username: "stays" }))).status).toBe(200);
    const created = await deliver(
      "user.created",
      clerkUser({ id: "user_ada", email: "ada@example.com", username: "ada", firstName: "Ada", lastName: "Lovelace" }),
    );
    expect(created.status).toBe(200);

    const ada = await asUser("user_ada");
    const stays = await asUser("user_stays");
    const me = await ada.query(api.users.getCurrentUser, {});
    expect(me).toMatchObject({ username: "ada", fullname: "Ada Lovelace", clerkId: "user_ada" });

    // Ada posts a photo; the other user follows her, likes and comments.
    const uploadUrl = await ada.mutation(api.posts.generateUploadUrl, {});
    const upload = await fetch(uploadUrl, { method: "POST", headers: { "Content-Type": "image/png" }, body: uniquePng() as unknown as BodyInit });
    const { storageId } = (await upload.json()) as { storageId: Id<"_storage"> };
    const postId = await ada.mutation(api.posts.createPost, { storageId, caption: "first light" });
    // Others see the post once its photo is processed (a scheduled action).
    await drain(engine, { advanceClock: false });
    const staysMe = (await stays.query(api.users.getCurrentUser, {}))!;
    await stays.mutation(api.users.toggleFollow, { followingId: me!._id });
    await stays.mutation(api.posts.toggleLike, { postId });
    await stays.mutation(api.comments.addComment, { postId, content: "lovely" });
    expect((await stays.query(api.users.getUserProfile, { id: staysMe._id })).following).toBe(1);

    // user.updated: the new name and avatar appear in everyone's feed.
    const updated = await deliver(
      "user.updated",
      clerkUser({ id: "user_ada", email: "ada@example.com", username: "ada", firstName: "Augusta", lastName: "King", imageUrl: "https://img.clerk.com/new.png" }),
    );
    expect(updated.status).toBe(200);
    const feed = await stays.query(api.posts.getFeedPosts, {});
    expect(feed.find((p) => p._id === postId)?.author).toMatchObject({ username: "ada", image: "https://img.clerk.com/new.png" });
    expect(await stays.query(api.users.getUserProfile, { id: me!._id })).toMatchObject({ fullname: "Augusta King" });

    // user.deleted: every trace of Ada goes; the other user's counters are right.
    expect((await deliver("user.deleted", { id: "user_ada", object: "user", deleted: true })).status).toBe(200);
    await drain(engine);
    for (const table of ["posts", "likes", "comments", "follows", "notifications", "bookmarks"]) {
      const rows = await documents(engine, table);
      const mentions = rows.filter((r) => JSON.stringify(r).includes(me!._id));
      expect(mentions, `${table} still mentions the deleted user`).toEqual([]);
    }
    expect((await documents(engine, "users")).map((u) => u.clerkId)).toEqual(["user_stays"]);
    expect((await documents(engine, "_storage")).length).toBe(0);
    expect(await stays.query(api.users.getUserProfile, { id: staysMe._id })).toMatchObject({ following: 0, followers: 0, posts: 0 });
    expect(await ada.query(api.users.getCurrentUser, {})).toBeNull();
  }, 60_000);
});

async function documents(engine: EngineProcess, table: string): Promise<Record<string, unknown>[]> {
  const response = await fetch(`${engine.cloudUrl}/api/admin/documents?table=${table}&limit=1000`, {
    headers: { Authorization: `Convex ${engine.adminKey}` },
  });
  return ((await response.json()) as { documents: Record<string, unknown>[] }).documents;
}

async function drain(engine: EngineProcess, body: Record<string, unknown> = {}): Promise<void> {
  const response = await fetch(`${engine.cloudUrl}/api/admin/scheduler/drain`, {
    method: "POST",
    headers: { Authorization: `Convex ${engine.adminKey}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
}
