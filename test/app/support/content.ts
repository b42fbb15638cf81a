import { api } from "../../../convex/_generated/api";
import type { Id } from "../../../convex/_generated/dataModel";
import type { AppBackend } from "../harness";
import type { TestUser } from "./accounts";
import { uniquePng } from "./images";

/** Uploads a fresh PNG as `user`; returns its storage id. */
export async function uploadImage(backend: AppBackend, user: TestUser): Promise<Id<"_storage">> {
  return (await backend.upload(user.clerkId, uniquePng(), "image/png")) as Id<"_storage">;
}

/**
 * Uploads an image and posts it as `user`, then waits for the photo's
 * processing (until then only its author sees it); returns the post id.
 */
export async function postImage(
  backend: AppBackend,
  user: TestUser,
  caption?: string,
): Promise<Id<"posts">> {
  const storageId = await uploadImage(backend, user);
  const postId = await user.client.mutation(api.posts.createPost, { storageId, caption });
  await backend.settle();
  return postId;
}

/** The storage ids of every file of post `postId`: its photo and, once processed, the variants. */
export async function filesOfPost(backend: AppBackend, postId: Id<"posts">): Promise<string[]> {
  const post = (await backend.documents("posts")).find((row) => row._id === postId);
  if (post === undefined) throw new Error(`post ${postId} does not exist`);
  return [post.storageId, post.displayId, post.thumbnailId].filter((id) => id !== undefined).map(String);
}
