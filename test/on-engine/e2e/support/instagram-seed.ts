import { rmSync, existsSync } from "node:fs";
import path from "node:path";
import { ConvexHttpClient } from "convex/browser";
import { api, internal } from "../../../../convex/_generated/api";
import type { Doc, Id } from "../../../../convex/_generated/dataModel";
import type { Engine } from "../../../../packages/engine/src/engine";
import { generatePhoto } from "../../../../scripts/seed/generated-photo";
import { adminClient } from "../../../../packages/engine/test/support/admin-client";

/** What the seed made, for the test to look for in the dashboard. */
export interface SeededApp {
  users: { name: string; clerkId: string; id: Id<"users"> }[];
  /** A posted photo (its processed original, a 160 px PNG) whose bytes are on disk. */
  storedPhoto: Id<"_storage">;
  /** A posted photo's file (its thumbnail, the newest file of the post) whose bytes were removed from disk behind the engine's back. */
  missingPhoto: Id<"_storage">;
  /** An upload no post uses; its clean-up job is pending. */
  orphanUpload: Id<"_storage">;
}

/**
 * Fills the Instagram app the way its front end and Clerk would: users by
 * the internal mutation the Clerk webhook calls (with the admin key), photos
 * through `generateUploadUrl` as a signed-in user (dev-issuer tokens), then
 * posts, a like and a comment through the public functions.
 */
export async function seedInstagram(engine: Engine, dataDir: string): Promise<SeededApp> {
  const admin = adminClient(engine.cloudUrl, engine.adminKey);
  const users: SeededApp["users"] = [];
  const clients = new Map<string, ConvexHttpClient>();
  for (const name of ["ada", "ben", "cleo"]) {
    const clerkId = `user_${name}`;
    const id = await admin.mutation(internal.users.createUser, {
      clerkId,
      email: `${name}@example.com`,
      username: name,
      fullname: `${name[0]!.toUpperCase()}${name.slice(1)} Example`,
      image: `https://img.example.com/${name}.png`,
    });
    users.push({ name, clerkId, id });
    const client = new ConvexHttpClient(engine.cloudUrl, { logger: false });
    client.setAuth(await engine.mintDevToken({ subject: clerkId, email: `${name}@example.com` }));
    clients.set(name, client);
  }
  const ada = clients.get("ada")!;
  const ben = clients.get("ben")!;

  const upload = async (client: ConvexHttpClient, seed: number): Promise<Id<"_storage">> => {
    const url = await client.mutation(api.posts.generateUploadUrl, {});
    const response = await fetch(url, { method: "POST", headers: { "Content-Type": "image/png" }, body: new Uint8Array(generatePhoto(seed, 160)) });
    if (response.status !== 200) throw new Error(`upload failed: ${response.status} ${await response.text()}`);
    return ((await response.json()) as { storageId: Id<"_storage"> }).storageId;
  };
  // Each post's photo is processed (a scheduled action) before the next file
  // is uploaded, so files are created in a known order: upload, then the
  // post's original, display variant and thumbnail.
  const postId = await ada.mutation(api.posts.createPost, { storageId: await upload(ada, 7), caption: "Sunset over the hills" });
  await settle(engine);
  const bensPost = await ben.mutation(api.posts.createPost, { storageId: await upload(ben, 11), caption: "Morning light" });
  await settle(engine);
  const storedPhoto = (await postDocument(engine, postId)).storageId;
  const missingPhoto = (await postDocument(engine, bensPost)).thumbnailId!;
  const orphanUpload = await upload(ben, 3);
  await ben.mutation(api.posts.toggleLike, { postId });
  await ben.mutation(api.comments.addComment, { postId, content: "Beautiful colours!" });

  const blob = path.join(dataDir, "storage", "blobs", missingPhoto);
  if (!existsSync(blob)) throw new Error(`expected the stored file at ${blob}`);
  rmSync(blob);
  return { users, storedPhoto, missingPhoto, orphanUpload };
}

/** Waits for the scheduled work that is due now (photo processing). */
async function settle(engine: Engine): Promise<void> {
  const response = await fetch(`${engine.cloudUrl}/api/admin/scheduler/drain`, {
    method: "POST",
    headers: { Authorization: `Convex ${engine.adminKey}`, "Content-Type": "application/json" },
    body: JSON.stringify({ advanceClock: false }),
  });
  if (!response.ok) throw new Error(`drain failed: ${response.status} ${await response.text()}`);
}

/** A post as stored, through the admin API. */
async function postDocument(engine: Engine, postId: Id<"posts">): Promise<Doc<"posts">> {
  const response = await fetch(`${engine.cloudUrl}/api/admin/document?id=${postId}`, {
    headers: { Authorization: `Convex ${engine.adminKey}` },
  });
  if (!response.ok) throw new Error(`post ${postId}: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { document: Doc<"posts"> }).document;
}
