import { existsSync } from "node:fs";
import sharp from "sharp";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { api } from "../../convex/_generated/api";
import { drainScheduler } from "../../packages/engine/test/scheduler-support/scheduler-helpers";
import { filesIn, storageDirs } from "../../packages/engine/test/storage-support/storage-helpers";
import { expectAppError, pngBytes, startInstagram, type InstagramDeployment } from "./storage-support/instagram";

/**
 * The Instagram app's file handling on the engine: what a front end uploads
 * is what the feed's `imageUrl` serves; deleting a post deletes its file from
 * disk; uploads no post uses are removed by the app's scheduled sweep; and
 * the app's refusals (not an image, someone else's upload) hold.
 */
describe("the Instagram app's files on the engine", () => {
  let app: InstagramDeployment;
  let blobs: string;
  beforeEach(async () => {
    app = await startInstagram();
    blobs = storageDirs(app.running.dataDir).blobs;
  });
  afterEach(async () => {
    await app?.close();
  });

  test("upload → createPost → the feed's imageUrl serves the same picture; deletePost removes every file from disk", async () => {
    const ada = await app.signUp("ada");
    const image = pngBytes(300_000, 1);
    const storageId = await app.upload(ada.client, image, "image/png");
    const postId = await ada.client.mutation(api.posts.createPost, { storageId, caption: "first" });
    expect(existsSync(path.join(blobs, storageId))).toBe(true);
    await app.settle();

    const [item] = await ada.client.query(api.posts.getFeedPosts, {});
    expect(item).toMatchObject({ _id: postId, caption: "first" });
    // Processing replaced the upload with a metadata-free copy; a PNG stays lossless.
    expect(item.storageId).not.toBe(storageId);
    expect(existsSync(path.join(blobs, storageId))).toBe(false);
    expect(item.imageUrl).toBe(`${app.running.engine.cloudUrl}/api/storage/${item.storageId}`);
    const served = await fetch(item.imageUrl);
    expect(served.status).toBe(200);
    expect(served.headers.get("content-type")).toBe("image/png");
    const pixels = (bytes: Uint8Array) => sharp(bytes).removeAlpha().raw().toBuffer();
    expect(await pixels(new Uint8Array(await served.arrayBuffer()))).toEqual(await pixels(image));
    const files = await app.filesOfPost(postId);
    expect(files).toHaveLength(3);
    expect(new Set(filesIn(blobs))).toEqual(new Set(files));

    await ada.client.mutation(api.posts.deletePost, { postId });
    expect(filesIn(blobs)).toEqual([]);
    for (const url of [item.imageUrl, item.displayUrl!, item.thumbnailUrl!]) expect((await fetch(url)).status).toBe(404);
    expect(await app.documents("_storage")).toEqual([]);
  });

  test("an upload never used by a post is removed by the app's scheduled clean-up; a posted one stays", async () => {
    const [ada, bob] = [await app.signUp("ada"), await app.signUp("bob")];
    const orphan = await app.upload(ada.client, pngBytes(1000, 2), "image/png");
    const upload = await app.upload(bob.client, pngBytes(1000, 3), "image/jpeg");
    const postId = await bob.client.mutation(api.posts.createPost, { storageId: upload });
    await app.settle();
    const used = await app.filesOfPost(postId);
    expect(new Set(filesIn(blobs))).toEqual(new Set([orphan, ...used]));

    // The sweep is scheduled two upload windows ahead; the drain moves the deployment clock there.
    const drained = await drainScheduler(app.running.engine);
    expect(drained.clockOffsetMs).toBeGreaterThan(2 * 60 * 60 * 1000);
    expect(new Set(filesIn(blobs))).toEqual(new Set(used));
    expect(new Set((await app.documents("_storage")).map((f) => f._id))).toEqual(new Set(used));
    const jobs = await app.documents("_scheduled_functions");
    expect(jobs.filter((j) => j.name === "uploads.js:expireTicket").map((j) => (j.state as { kind: string }).kind)).toEqual([
      "success",
      "success",
    ]);
    for (const id of used) expect((await fetch(`${app.running.engine.cloudUrl}/api/storage/${id}`)).status).toBe(200);
  });

  test("createPost refuses a file that is not an image, and an SVG", async () => {
    const ada = await app.signUp("ada");
    for (const [type, body] of [
      ["text/plain", "just text"],
      ["application/pdf", "%PDF-1.4"],
      ["image/svg+xml", "<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"],
    ]) {
      const storageId = await app.upload(ada.client, new TextEncoder().encode(body), type);
      await expectAppError(ada.client.mutation(api.posts.createPost, { storageId }), "INVALID_ARGUMENT");
    }
    expect(await app.documents("posts")).toEqual([]);
  });

  test("createPost refuses another user's upload", async () => {
    const [ada, mallory] = [await app.signUp("ada"), await app.signUp("mallory")];
    const adas = await app.upload(ada.client, pngBytes(500, 4), "image/png");
    await expectAppError(mallory.client.mutation(api.posts.createPost, { storageId: adas }), "FORBIDDEN");
    // Holding an upload URL of one's own does not help with a file uploaded before it.
    await mallory.client.mutation(api.posts.generateUploadUrl, {});
    await expectAppError(mallory.client.mutation(api.posts.createPost, { storageId: adas }), "FORBIDDEN");
    await ada.client.mutation(api.posts.createPost, { storageId: adas });
    expect((await app.documents("posts")).map((p) => p.userId)).toEqual([ada.id]);
  });
});
