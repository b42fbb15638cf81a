import sharp from "sharp";
import { thumbHashToRGBA } from "thumbhash";
import { expect, it, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { DISPLAY_MAX_SIDE, MAX_IMAGE_PIXELS, THUMBNAIL_MAX_SIDE } from "../../convex/lib/limits";
import { fileMetadata, makePhoto, TEST_GPS } from "../support/photos";
import { describeEach, type AppBackend } from "./harness";
import { signUp, signUpMany, type TestUser } from "./support/accounts";
import { filesOfPost } from "./support/content";

/**
 * Photo processing (`convex/imaging.ts`): every post's photo is decoded
 * once, re-encoded without metadata at full size, and given a display
 * variant, a thumbnail and a placeholder; files that are not photos are
 * refused after the fact with a notification to their author.
 */

async function post(backend: AppBackend, user: TestUser, bytes: Uint8Array, type = "image/jpeg") {
  const storageId = (await backend.upload(user.clerkId, bytes, type)) as Id<"_storage">;
  const postId = await user.client.mutation(api.posts.createPost, { storageId });
  return { storageId, postId };
}

async function download(backend: AppBackend, url: string): Promise<Uint8Array> {
  const response = await backend.fetchUrl(url);
  expect(response.status, url).toBe(200);
  return new Uint8Array(await response.arrayBuffer());
}

// Real photos are decoded and encoded several times per test: on a busy machine that takes a while.
vi.setConfig({ testTimeout: 120_000 });

describeEach("photos", (get) => {
  it("a phone photo's GPS position is at no URL of its post, the original's included", async () => {
    const [ada, bob] = await signUpMany(get(), 2);
    const upload = await makePhoto({ width: 1600, height: 1200, exif: {} });
    // The test photo really carries a location.
    expect((await fileMetadata(upload)).exif?.GPSInfo?.GPSLatitude).toEqual(TEST_GPS.latitude);
    const { storageId, postId } = await post(get(), ada, upload);

    // Before processing, only the author sees the post: its file is the upload as made.
    expect(await bob.client.query(api.posts.getPost, { postId })).toBeNull();
    expect(await bob.client.query(api.posts.getFeedPosts)).toEqual([]);
    expect(await bob.client.query(api.posts.getPostsByUser, { userId: ada.id })).toEqual([]);
    expect((await ada.client.query(api.posts.getPost, { postId }))?.displayUrl).toBeNull();
    await get().settle();

    const seen = (await bob.client.query(api.posts.getPost, { postId }))!;
    expect(seen.storageId).not.toBe(storageId);
    for (const url of [seen.imageUrl, seen.displayUrl!, seen.thumbnailUrl!]) {
      const meta = await fileMetadata(await download(get(), url));
      expect(meta, url).toMatchObject({ exif: null, hasXmp: false, hasIptc: false, hasIcc: false });
    }
    // The upload itself is gone, so no URL can serve it.
    const files = (await get().documents("_storage")).map((file) => file._id);
    expect(files.sort()).toEqual((await filesOfPost(get(), postId)).sort());
    expect(files).not.toContain(storageId);
  });

  it("variants have their stated sizes, orientation applied; the placeholder decodes", async () => {
    const ada = await signUp(get());
    // Stored 1600×1200 with EXIF orientation 6: the camera was held upright, so it shows 1200×1600.
    const { postId } = await post(get(), ada, await makePhoto({ width: 1600, height: 1200, exif: { orientation: 6 } }));
    await get().settle();
    const seen = (await ada.client.query(api.posts.getPost, { postId }))!;
    expect([seen.width, seen.height]).toEqual([1200, 1600]);

    const sizes = async (url: string) => {
      const meta = await fileMetadata(await download(get(), url));
      return [meta.format, meta.width, meta.height, meta.orientation ?? 1];
    };
    expect(await sizes(seen.imageUrl)).toEqual(["jpeg", 1200, 1600, 1]);
    expect(await sizes(seen.displayUrl!)).toEqual(["webp", (DISPLAY_MAX_SIDE * 3) / 4, DISPLAY_MAX_SIDE, 1]);
    expect(await sizes(seen.thumbnailUrl!)).toEqual(["webp", (THUMBNAIL_MAX_SIDE * 3) / 4, THUMBNAIL_MAX_SIDE, 1]);

    const preview = thumbHashToRGBA(Buffer.from(seen.placeholder!, "base64"));
    // A portrait photo gives a portrait placeholder.
    expect(preview.h).toBeGreaterThan(preview.w);
  });

  it("small photos are never enlarged; a PNG stays a PNG", async () => {
    const ada = await signUp(get());
    const { postId } = await post(get(), ada, await makePhoto({ width: 300, height: 200, format: "png" }), "image/png");
    await get().settle();
    const seen = (await ada.client.query(api.posts.getPost, { postId }))!;
    const sizes = async (url: string) => {
      const meta = await fileMetadata(await download(get(), url));
      return [meta.format, meta.width, meta.height];
    };
    expect(await sizes(seen.imageUrl)).toEqual(["png", 300, 200]);
    expect(await sizes(seen.displayUrl!)).toEqual(["webp", 300, 200]);
    expect(await sizes(seen.thumbnailUrl!)).toEqual(["webp", 300, 200]);
  });

  it("a file that is not a photo is refused: the post and its file go, the author is told, nobody else saw it", async () => {
    const [ada, bob] = await signUpMany(get(), 2);
    await bob.client.mutation(api.users.toggleFollow, { followingId: ada.id });
    const { postId } = await post(get(), ada, new TextEncoder().encode("not a photo at all"), "image/png");
    expect((await ada.client.query(api.users.getCurrentUser))?.posts).toBe(1);
    await get().settle();

    expect(await ada.client.query(api.posts.getPost, { postId })).toBeNull();
    expect((await ada.client.query(api.users.getCurrentUser))?.posts).toBe(0);
    expect(await get().documents("posts")).toEqual([]);
    expect(await get().documents("_storage")).toEqual([]);
    expect(await get().documents("feedItems")).toEqual([]);
    const [notice] = await ada.client.query(api.notifications.getNotifications);
    expect(notice).toMatchObject({ type: "post_rejected", post: null, sender: { _id: ada.id } });
    expect(notice.message).toMatch(/could not be read as a photo/);
    expect(await bob.client.query(api.notifications.getNotifications)).toEqual([]);
  });

  it(`a photo over ${MAX_IMAGE_PIXELS / 1_000_000} megapixels is refused with its size in the message`, async () => {
    const ada = await signUp(get());
    // 8000×6000 = 48 MP, a few kilobytes as a flat PNG: the pixel count, not the file size, is what costs.
    const side = { width: 8000, height: 6000 };
    const huge = await makePhotoFlat(side.width, side.height);
    await post(get(), ada, huge, "image/png");
    await get().settle();
    expect(await get().documents("posts")).toEqual([]);
    expect(await get().documents("_storage")).toEqual([]);
    const [notice] = await ada.client.query(api.notifications.getNotifications);
    expect(notice.message).toContain("8000×6000 pixels");
  });

  it("deleting a processed post leaves no file behind; processing twice records once", async () => {
    const ada = await signUp(get());
    const { postId } = await post(get(), ada, await makePhoto({ width: 640, height: 480 }));
    await get().settle();
    const files = await filesOfPost(get(), postId);
    expect(files).toHaveLength(3);
    // A second run of the same job (a retry, a rerun migration) changes nothing.
    await get().admin().action(internal.imaging.processPostImage, { postId });
    expect(await filesOfPost(get(), postId)).toEqual(files);
    expect(await get().documents("_storage")).toHaveLength(3);

    await ada.client.mutation(api.posts.deletePost, { postId });
    expect(await get().documents("_storage")).toEqual([]);
  });

  it("a post deleted before its photo is processed leaves no file behind", async () => {
    const ada = await signUp(get());
    const { postId } = await post(get(), ada, await makePhoto({ width: 640, height: 480 }));
    await ada.client.mutation(api.posts.deletePost, { postId });
    await get().settle();
    expect(await get().documents("_storage")).toEqual([]);
    expect(await get().documents("posts")).toEqual([]);
  });

  it("the migration drops stored URLs and processes older posts, in batches, and is safe to rerun", async () => {
    const ada = await signUp(get());
    const bob = await signUp(get());
    // Five posts as an earlier version wrote them: an absolute URL of the old server, no processing.
    const legacy: Record<string, unknown>[] = [];
    for (let i = 0; i < 5; i += 1) {
      const storageId = await get().upload(ada.clerkId, await makePhoto({ width: 400, height: 300, seed: i, exif: {} }), "image/jpeg");
      legacy.push({ userId: ada.id, imageUrl: `http://old-server.invalid:3210/api/storage/${storageId}`, storageId, likes: 0, comments: 0 });
    }
    const ids = (await get().insertDocuments("posts", legacy)) as Id<"posts">[];
    // Even before the migration, results carry URLs of this deployment.
    const before = (await bob.client.query(api.posts.getPost, { postId: ids[0] }))!;
    expect(before.imageUrl).not.toContain("old-server.invalid");
    expect(await download(get(), before.imageUrl)).toBeInstanceOf(Uint8Array);

    const first = await get().admin().mutation(internal.migrations.derivePostImages, { batchSize: 2 });
    expect(first).toEqual({ examined: 2, urlsRemoved: 2, processingScheduled: 2, done: false });
    await get().settle();
    const posts = await get().documents("posts");
    expect(posts.map((p) => [p.imageUrl, p.imageState])).toEqual(ids.map(() => [undefined, "ready"]));
    for (const postId of ids) {
      const seen = (await bob.client.query(api.posts.getPost, { postId }))!;
      expect((await fileMetadata(await download(get(), seen.imageUrl))).exif).toBeNull();
    }

    // A rerun finds nothing to do and changes nothing.
    const files = (await get().documents("_storage")).map((file) => file._id).sort();
    const again = await get().admin().mutation(internal.migrations.derivePostImages, {});
    expect(again).toEqual({ examined: 5, urlsRemoved: 0, processingScheduled: 0, done: true });
    await get().settle();
    expect(await get().documents("posts")).toEqual(posts);
    expect((await get().documents("_storage")).map((file) => file._id).sort()).toEqual(files);
  });
});

/** A flat-colour PNG: huge in pixels, tiny in bytes. */
async function makePhotoFlat(width: number, height: number): Promise<Buffer> {
  return await sharp({ create: { width, height, channels: 3, background: { r: 30, g: 90, b: 160 } } }).png().toBuffer();
}
