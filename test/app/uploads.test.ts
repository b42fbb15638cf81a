import sharp from "sharp";
import { expect, it } from "vitest";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { MAX_IMAGE_BYTES, MAX_OPEN_UPLOADS } from "../../convex/lib/limits";
import { describeEach } from "./harness";
import { signUp, signUpMany } from "./support/accounts";
import { filesOfPost, postImage, uploadImage } from "./support/content";
import { expectAppError } from "./support/errors";
import { JPEG_BYTES, PNG_BYTES } from "./support/images";

/**
 * Image uploads: `createPost` takes only a fresh image the caller uploaded
 * and no post uses yet; unused uploads are swept; a post's file goes with it.
 */
describeEach(
  "uploads",
  (get) => {
    const upload = async (clerkId: string, bytes: Uint8Array, type: string) =>
      (await get().upload(clerkId, bytes, type)) as Id<"_storage">;

    it("generateUploadUrl hands signed-in users a URL, and anonymous callers an error", async () => {
      const ada = await signUp(get());
      expect(await ada.client.mutation(api.posts.generateUploadUrl)).toMatch(/^https?:\/\//);
      await expectAppError(get().client(null).mutation(api.posts.generateUploadUrl), "UNAUTHENTICATED");
    });

    it("accepts image types (PNG, JPEG, WebP, HEIC)", async () => {
      const ada = await signUp(get());
      const files: [Uint8Array, string][] = [
        [PNG_BYTES, "image/png"],
        [JPEG_BYTES, "image/jpeg"],
        [PNG_BYTES, "image/webp"],
        [JPEG_BYTES, "image/heic"],
      ];
      for (const [bytes, type] of files) {
        const storageId = await upload(ada.clerkId, bytes, type);
        await ada.client.mutation(api.posts.createPost, { storageId });
      }
      expect((await ada.client.query(api.users.getCurrentUser))?.posts).toBe(files.length);
    });

    it("refuses files that are not images, and SVG", async () => {
      const ada = await signUp(get());
      for (const type of ["text/plain", "application/pdf", "image/svg+xml", "imagey/png", ""]) {
        const storageId = await upload(ada.clerkId, new TextEncoder().encode("<svg/>"), type);
        await expectAppError(ada.client.mutation(api.posts.createPost, { storageId }), "INVALID_ARGUMENT");
      }
      expect(await get().documents("posts")).toEqual([]);
    });

    it(`accepts an image of exactly ${MAX_IMAGE_BYTES} bytes and refuses one byte more`, async () => {
      const ada = await signUp(get());
      const atLimit = new Uint8Array(MAX_IMAGE_BYTES);
      atLimit.set(PNG_BYTES);
      const ok = await upload(ada.clerkId, atLimit, "image/png");
      await ada.client.mutation(api.posts.createPost, { storageId: ok });

      const tooBig = new Uint8Array(MAX_IMAGE_BYTES + 1);
      tooBig.set(PNG_BYTES);
      const refused = await upload(ada.clerkId, tooBig, "image/png");
      const message = await expectAppError(
        ada.client.mutation(api.posts.createPost, { storageId: refused }),
        "INVALID_ARGUMENT",
      );
      expect(message).toMatch(/too large/);
    });

    it("refuses another user's upload", async () => {
      const [ada, bob] = await signUpMany(get(), 2);
      const bobsFile = await uploadImage(get(), bob);
      // Ada holds no upload ticket at all.
      await expectAppError(ada.client.mutation(api.posts.createPost, { storageId: bobsFile }), "FORBIDDEN");
      // A ticket Ada asks for after Bob's file exists does not vouch for it.
      await ada.client.mutation(api.posts.generateUploadUrl);
      await expectAppError(ada.client.mutation(api.posts.createPost, { storageId: bobsFile }), "FORBIDDEN");
      // Bob can still post it.
      await bob.client.mutation(api.posts.createPost, { storageId: bobsFile });
    });

    it("a ticket backs one post: after using it, a later foreign file is refused", async () => {
      const [ada, bob] = await signUpMany(get(), 2);
      const adasFile = await uploadImage(get(), ada);
      const bobsFile = await uploadImage(get(), bob);
      await ada.client.mutation(api.posts.createPost, { storageId: adasFile });
      await expectAppError(ada.client.mutation(api.posts.createPost, { storageId: bobsFile }), "FORBIDDEN");
    });

    it("a file backs at most one post", async () => {
      const [ada, bob] = await signUpMany(get(), 2);
      const storageId = await uploadImage(get(), ada);
      await ada.client.mutation(api.posts.createPost, { storageId });
      await ada.client.mutation(api.posts.generateUploadUrl);
      await expectAppError(ada.client.mutation(api.posts.createPost, { storageId }), "CONFLICT");
      await expectAppError(bob.client.mutation(api.posts.createPost, { storageId }), "CONFLICT");
      expect(await get().documents("posts")).toHaveLength(1);
    });

    it("refuses a storage id whose file is gone", async () => {
      const ada = await signUp(get());
      const postId = await postImage(get(), ada);
      const { storageId } = (await ada.client.query(api.posts.getPost, { postId }))!;
      await ada.client.mutation(api.posts.deletePost, { postId });
      await ada.client.mutation(api.posts.generateUploadUrl);
      await expectAppError(ada.client.mutation(api.posts.createPost, { storageId }), "NOT_FOUND");
    });

    it(`allows ${MAX_OPEN_UPLOADS} open uploads per user; posting frees one`, async () => {
      const ada = await signUp(get());
      const files = [];
      for (let i = 0; i < MAX_OPEN_UPLOADS; i += 1) files.push(await uploadImage(get(), ada));
      await expectAppError(ada.client.mutation(api.posts.generateUploadUrl), "RATE_LIMITED");
      await ada.client.mutation(api.posts.createPost, { storageId: files[0] });
      await ada.client.mutation(api.posts.generateUploadUrl);
    });

    it("the post's photo and its variants are served at their URLs and deleted with the post", async () => {
      const ada = await signUp(get());
      const storageId = await upload(ada.clerkId, JPEG_BYTES, "image/jpeg");
      const postId = await ada.client.mutation(api.posts.createPost, { storageId });
      await get().settle();
      const post = (await ada.client.query(api.posts.getPost, { postId }))!;
      const urls = [post.imageUrl, post.displayUrl!, post.thumbnailUrl!];
      const types = [];
      for (const url of urls) {
        const served = await get().fetchUrl(url);
        expect(served.status).toBe(200);
        types.push(served.headers.get("content-type"));
        // Each is the 8×8 grey photo, re-encoded.
        expect(await sharp(Buffer.from(await served.arrayBuffer())).metadata()).toMatchObject({ width: 8, height: 8 });
      }
      expect(types).toEqual(["image/jpeg", "image/webp", "image/webp"]);

      await ada.client.mutation(api.posts.deletePost, { postId });
      expect(await get().documents("_storage")).toEqual([]);
      for (const url of urls) expect((await get().fetchUrl(url)).status).toBe(404);
    });

    it("uploads never attached to a post are swept; attached ones stay", async () => {
      const [ada, bob] = await signUpMany(get(), 2);
      const orphan = await uploadImage(get(), ada);
      const refused = await upload(bob.clerkId, new TextEncoder().encode("hello"), "text/plain");
      await expectAppError(bob.client.mutation(api.posts.createPost, { storageId: refused }), "INVALID_ARGUMENT");
      const postId = await postImage(get(), bob);
      const used = await filesOfPost(get(), postId);
      expect(used).toHaveLength(3);

      await get().drainScheduled();
      const remaining = (await get().documents("_storage")).map((file) => file._id);
      expect(remaining.sort()).toEqual(used.sort());
      expect(remaining).not.toContain(orphan);
      expect(await get().documents("uploadTickets")).toEqual([]);
      // The swept upload cannot be posted any more.
      await ada.client.mutation(api.posts.generateUploadUrl);
      await expectAppError(ada.client.mutation(api.posts.createPost, { storageId: orphan }), "NOT_FOUND");
    });
  },
);
