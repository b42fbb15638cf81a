import { expect, it } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import { describeEach } from "./harness";
import { signUp } from "./support/accounts";
import { PNG_BYTES } from "./support/images";

/**
 * The harness itself, and the places where a backend had to be taught to
 * behave like a real deployment (see the factory's header comment).
 */
describeEach("harness", (get) => {
  it("gives every test a fresh, empty deployment", async () => {
    expect(await get().documents("users")).toEqual([]);
    await signUp(get());
    expect(await get().documents("users")).toHaveLength(1);
  });

  it("refuses internal functions to clients but not to the admin", async () => {
    const args = { clerkId: "user_intruder", email: "x@example.com" };
    await expect(get().client(null).mutation(internal.users.createUser, args)).rejects.toThrow();
    await expect(get().client("user_someone").mutation(internal.users.createUser, args)).rejects.toThrow();
    expect(await get().documents("users")).toEqual([]);
    await get().admin().mutation(internal.users.createUser, args);
    expect(await get().documents("users")).toHaveLength(1);
  });

  it("records the Content-Type and size of uploads, as the real backend does", async () => {
    const user = await signUp(get());
    const storageId = await get().upload(user.clerkId, PNG_BYTES, "image/png");
    const files = await get().documents("_storage");
    expect(files).toHaveLength(1);
    expect(files[0]).toMatchObject({ _id: storageId, contentType: "image/png", size: PNG_BYTES.length });
  });

  it("serves an uploaded file at the URL the backend hands out", async () => {
    const user = await signUp(get());
    const storageId = await get().upload(user.clerkId, PNG_BYTES, "image/png");
    const postId = await user.client.mutation(api.posts.createPost, { storageId: storageId as never });
    const post = await user.client.query(api.posts.getPost, { postId });
    const response = await get().fetchUrl(post!.imageUrl);
    expect(response.status).toBe(200);
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(PNG_BYTES);
  });

  it("sets and clears deployment environment variables", async () => {
    // Observed through the webhook: without a secret it answers 500.
    const post = () => get().fetchSite("/clerk-webhook", { method: "POST", body: "{}" });
    expect((await post()).status).toBe(500);
    await get().setEnv("CLERK_WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    expect((await post()).status).toBe(400);
    await get().setEnv("CLERK_WEBHOOK_SECRET", null);
    expect((await post()).status).toBe(500);
  });
});
