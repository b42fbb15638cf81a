import { api } from "../../../convex/_generated/api";
import type { Id } from "../../../convex/_generated/dataModel";
import type { AppBackend } from "../harness";
import type { TestUser } from "./accounts";
import { uniquePng } from "./images";

/** Uploads a fresh PNG as `user`; returns its storage id. */
export async function uploadImage(backend: AppBackend, user: TestUser): Promise<Id<"_storage">> {
  return (await backend.upload(user.clerkId, uniquePng(), "image/png")) as Id<"_storage">;
}

/** Uploads an image and posts it as `user`; returns the post id. */
export async function postImage(
  backend: AppBackend,
  user: TestUser,
  caption?: string,
): Promise<Id<"posts">> {
  const storageId = await uploadImage(backend, user);
  return await user.client.mutation(api.posts.createPost, { storageId, caption });
}
