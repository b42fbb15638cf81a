import { expect, it } from "vitest";
import { api } from "../../convex/_generated/api";
import { COMMENTS_LIMIT } from "../../convex/lib/limits";
import { describeEach } from "./harness";
import { signUpMany } from "./support/accounts";
import { postImage } from "./support/content";
import { expectAppError } from "./support/errors";

describeEach(
  "comments",
  (get) => {
    it("addComment stores the comment, counts it and getComments lists oldest first with authors", async () => {
      const [ada, bob] = await signUpMany(get(), 2);
      await bob.client.mutation(api.users.updateProfile, { fullname: "Bob Builder" });
      const postId = await postImage(get(), ada);
      const first = await bob.client.mutation(api.comments.addComment, { postId, content: "first!" });
      const second = await ada.client.mutation(api.comments.addComment, { postId, content: "thanks" });

      const comments = await get().client(null).query(api.comments.getComments, { postId });
      expect(comments.map((c) => [c._id, c.content])).toEqual([
        [first, "first!"],
        [second, "thanks"],
      ]);
      expect(comments[0]).toMatchObject({
        userId: bob.id,
        postId,
        user: { _id: bob.id, fullname: "Bob Builder", username: bob.username, image: expect.any(String) },
      });
      expect(comments[0].user).not.toHaveProperty("email");
      expect((await ada.client.query(api.posts.getPost, { postId }))?.comments).toBe(2);
    });

    it("addComment refuses empty comments and missing posts", async () => {
      const [ada, bob] = await signUpMany(get(), 2);
      const postId = await postImage(get(), ada);
      await expectAppError(bob.client.mutation(api.comments.addComment, { postId, content: "" }), "INVALID_ARGUMENT");
      await expectAppError(
        bob.client.mutation(api.comments.addComment, { postId, content: " \n\t " }),
        "INVALID_ARGUMENT",
      );
      await ada.client.mutation(api.posts.deletePost, { postId });
      await expectAppError(bob.client.mutation(api.comments.addComment, { postId, content: "hi" }), "NOT_FOUND");
      expect(await get().documents("comments")).toEqual([]);
    });

    it("deleteComment lets the author delete a comment and keeps the count exact", async () => {
      const [ada, bob] = await signUpMany(get(), 2);
      const postId = await postImage(get(), ada);
      const commentId = await bob.client.mutation(api.comments.addComment, { postId, content: "oops" });
      await bob.client.mutation(api.comments.addComment, { postId, content: "keep" });

      await bob.client.mutation(api.comments.deleteComment, { commentId });
      const comments = await ada.client.query(api.comments.getComments, { postId });
      expect(comments.map((c) => c.content)).toEqual(["keep"]);
      expect((await ada.client.query(api.posts.getPost, { postId }))?.comments).toBe(1);
      await expectAppError(bob.client.mutation(api.comments.deleteComment, { commentId }), "NOT_FOUND");
    });

    it("nobody but its author can delete a comment, not even the post's author", async () => {
      const [ada, bob, carl] = await signUpMany(get(), 3);
      const postId = await postImage(get(), ada);
      const commentId = await bob.client.mutation(api.comments.addComment, { postId, content: "mine" });
      await expectAppError(carl.client.mutation(api.comments.deleteComment, { commentId }), "FORBIDDEN");
      await expectAppError(ada.client.mutation(api.comments.deleteComment, { commentId }), "FORBIDDEN");
      await expectAppError(get().client(null).mutation(api.comments.deleteComment, { commentId }), "UNAUTHENTICATED");
      expect(await get().documents("comments")).toHaveLength(1);
    });

    it(`getComments returns the newest ${COMMENTS_LIMIT} comments, oldest first`, async () => {
      const [ada, bob] = await signUpMany(get(), 2);
      const postId = await postImage(get(), ada);
      const total = COMMENTS_LIMIT + 5;
      for (let i = 0; i < total; i += 1) {
        await bob.client.mutation(api.comments.addComment, { postId, content: `c${i}` });
      }
      const comments = await ada.client.query(api.comments.getComments, { postId });
      expect(comments).toHaveLength(COMMENTS_LIMIT);
      expect(comments[0].content).toBe("c5");
      expect(comments[COMMENTS_LIMIT - 1].content).toBe(`c${total - 1}`);
      expect((await ada.client.query(api.posts.getPost, { postId }))?.comments).toBe(total);
    });

    it("getComments of a deleted post is empty at once", async () => {
      const [ada, bob] = await signUpMany(get(), 2);
      const postId = await postImage(get(), ada);
      await bob.client.mutation(api.comments.addComment, { postId, content: "hi" });
      await ada.client.mutation(api.posts.deletePost, { postId });
      expect(await bob.client.query(api.comments.getComments, { postId })).toEqual([]);
    });
  },
);
