import { ConvexHttpClient } from "convex/browser";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { adminClient } from "../../packages/engine/test/support/admin-client";
import { fileMetadata, makePhoto } from "../support/photos";
import { startTestEngine, type TestEngine } from "../support/app-engine";
import { startTestIssuer, type TestIssuer } from "../../packages/engine/test/support/test-issuer";
import { drainScheduler } from "../../packages/engine/test/scheduler-support/scheduler-helpers";

/**
 * The Instagram app's photos survive a move: export a deployment with its
 * files, import the ZIP into an engine on another port (the original one
 * stopped), and every image URL in the feed names the new engine and serves
 * the same bytes. Posts an earlier version wrote, with an absolute URL of
 * the old server stored in them, show the new server's URLs too, and the
 * migration then processes them there.
 */
describe("photos after export → import on another port", () => {
  let issuer: TestIssuer;
  let source: TestEngine | null = null;
  let target: TestEngine | null = null;
  beforeAll(async () => {
    issuer = await startTestIssuer();
  });
  afterAll(async () => {
    await source?.close();
    await target?.close();
    await issuer?.close();
  });

  const start = () => startTestEngine({ env: { CLERK_JWT_ISSUER_DOMAIN: issuer.issuer } });
  const clientOf = async (running: TestEngine, clerkId: string | null) => {
    const client = new ConvexHttpClient(running.engine.cloudUrl, { logger: false });
    if (clerkId !== null) client.setAuth(await issuer.mint({ sub: clerkId }));
    return client;
  };
  const download = async (url: string) => {
    const response = await fetch(url);
    return { status: response.status, bytes: new Uint8Array(await response.arrayBuffer()) };
  };

  test("every image URL of the feed loads from the new engine, with the same bytes", { timeout: 120_000 }, async () => {
    source = await start();
    const sourceUrl = source.engine.cloudUrl;
    const admin = adminClient(sourceUrl, source.engine.adminKey);
    const adaId = await admin.mutation(internal.users.createUser, { clerkId: "user_ada", username: "ada" });
    const ada = await clientOf(source, "user_ada");
    const photos = [
      { bytes: await makePhoto({ width: 1600, height: 1200, seed: 1, exif: {} }), type: "image/jpeg" },
      { bytes: await makePhoto({ width: 500, height: 700, seed: 2, format: "png" }), type: "image/png" },
      { bytes: await makePhoto({ width: 1200, height: 1200, seed: 3, format: "webp" }), type: "image/webp" },
    ];
    for (const photo of photos) {
      const url = await ada.mutation(api.posts.generateUploadUrl, {});
      const response = await fetch(url, { method: "POST", headers: { "Content-Type": photo.type }, body: photo.bytes as unknown as BodyInit });
      const { storageId } = (await response.json()) as { storageId: Id<"_storage"> };
      await ada.mutation(api.posts.createPost, { storageId, caption: photo.type });
    }
    // A post as an earlier version stored it: the old server's absolute URL inside, never processed.
    const legacyFile = await (async () => {
      const url = await ada.mutation(api.posts.generateUploadUrl, {});
      const response = await fetch(url, { method: "POST", headers: { "Content-Type": "image/jpeg" }, body: (await makePhoto({ width: 640, height: 480, seed: 4, exif: {} })) as unknown as BodyInit });
      return ((await response.json()) as { storageId: Id<"_storage"> }).storageId;
    })();
    const legacyPost = await source.engine.app.runtime.transact(() =>
      source!.engine.store.insert("posts", {
        userId: adaId,
        imageUrl: `${sourceUrl}/api/storage/${legacyFile}`,
        storageId: legacyFile,
        caption: "from an earlier version",
        likes: 0,
        comments: 0,
      }),
    );
    await drainScheduler(source.engine, { advanceClock: false });

    const before = await (await clientOf(source, null)).query(api.posts.getFeedPosts, {});
    expect(before).toHaveLength(4);
    const urlsBefore = before.flatMap((post) => [post.imageUrl, post.displayUrl, post.thumbnailUrl].filter((u) => u !== null));
    expect(urlsBefore).toHaveLength(3 * 3 + 1);
    const bytesBefore = new Map<string, Uint8Array>();
    for (const url of urlsBefore) {
      const { status, bytes } = await download(url);
      expect(status, url).toBe(200);
      bytesBefore.set(url.slice(sourceUrl.length), bytes);
    }

    const exported = await fetch(`${sourceUrl}/api/admin/export?includeStorage=true`, {
      method: "POST",
      headers: { Authorization: `Convex ${source.engine.adminKey}` },
    });
    expect(exported.status).toBe(200);
    const zip = new Uint8Array(await exported.arrayBuffer());
    await source.close();
    source = null;
    // The old engine is gone: its URLs no longer answer.
    await expect(fetch(urlsBefore[0]!)).rejects.toThrow();

    target = await start();
    const targetUrl = target.engine.cloudUrl;
    expect(targetUrl).not.toBe(sourceUrl);
    const imported = await fetch(`${targetUrl}/api/admin/import`, {
      method: "POST",
      headers: { Authorization: `Convex ${target.engine.adminKey}` },
      body: zip as unknown as BodyInit,
    });
    expect(imported.status, await imported.clone().text()).toBe(200);

    const after = await (await clientOf(target, null)).query(api.posts.getFeedPosts, {});
    expect(after.map((post) => post._id)).toEqual(before.map((post) => post._id));
    const urlsAfter = after.flatMap((post) => [post.imageUrl, post.displayUrl, post.thumbnailUrl].filter((u) => u !== null));
    expect(urlsAfter).toHaveLength(urlsBefore.length);
    for (const url of urlsAfter) {
      expect(url.startsWith(`${targetUrl}/api/storage/`), url).toBe(true);
      const { status, bytes } = await download(url);
      expect(status, url).toBe(200);
      expect(bytes, url).toEqual(bytesBefore.get(url.slice(targetUrl.length)));
    }

    // The migration, run on the new engine, processes the older post there.
    const targetAdmin = adminClient(targetUrl, target.engine.adminKey);
    const migrated = await targetAdmin.mutation(internal.migrations.derivePostImages, {});
    expect(migrated).toMatchObject({ urlsRemoved: 1, processingScheduled: 1, done: true });
    await drainScheduler(target.engine, { advanceClock: false });
    const legacy = (await (await clientOf(target, null)).query(api.posts.getPost, { postId: legacyPost as Id<"posts"> }))!;
    expect(legacy.thumbnailUrl?.startsWith(targetUrl)).toBe(true);
    expect((await fileMetadata((await download(legacy.imageUrl)).bytes)).exif).toBeNull();
  });
});
