import { expect, it } from "vitest";
import { api } from "../../convex/_generated/api";
import { BIO_MAX, CAPTION_MAX, COMMENT_MAX, FULLNAME_MAX, USERNAME_MAX } from "../../convex/lib/limits";
import { describeEach } from "./harness";
import { signUp, signUpMany } from "./support/accounts";
import { postImage, uploadImage } from "./support/content";
import { expectAppError } from "./support/errors";

/** Every input limit: a value at the limit passes, one character more fails. */
describeEach(
  "input limits",
  (get) => {
    it(`caption: ${CAPTION_MAX} characters pass, ${CAPTION_MAX + 1} fail (createPost and updateCaption)`, async () => {
      const ada = await signUp(get());
      const atLimit = "c".repeat(CAPTION_MAX);
      const postId = await postImage(get(), ada, atLimit);
      expect((await ada.client.query(api.posts.getPost, { postId }))?.caption).toBe(atLimit);

      const storageId = await uploadImage(get(), ada);
      const message = await expectAppError(
        ada.client.mutation(api.posts.createPost, { storageId, caption: atLimit + "c" }),
        "INVALID_ARGUMENT",
      );
      expect(message).toMatch(/Caption.*2200/);
      await expectAppError(
        ada.client.mutation(api.posts.updateCaption, { postId, caption: atLimit + "c" }),
        "INVALID_ARGUMENT",
      );
      await ada.client.mutation(api.posts.updateCaption, { postId, caption: "b".repeat(CAPTION_MAX) });
    });

    it("lengths count characters, so an emoji is one", async () => {
      const ada = await signUp(get());
      const emojis = "📸".repeat(CAPTION_MAX);
      const postId = await postImage(get(), ada, emojis);
      expect((await ada.client.query(api.posts.getPost, { postId }))?.caption).toBe(emojis);
      await expectAppError(ada.client.mutation(api.users.updateProfile, { fullname: "😀".repeat(FULLNAME_MAX + 1) }), "INVALID_ARGUMENT");
      await ada.client.mutation(api.users.updateProfile, { fullname: "😀".repeat(FULLNAME_MAX) });
    });

    it(`comment: ${COMMENT_MAX} characters pass, ${COMMENT_MAX + 1} fail, empty fails`, async () => {
      const [ada, bob] = await signUpMany(get(), 2);
      const postId = await postImage(get(), ada);
      await bob.client.mutation(api.comments.addComment, { postId, content: "k".repeat(COMMENT_MAX) });
      await expectAppError(
        bob.client.mutation(api.comments.addComment, { postId, content: "k".repeat(COMMENT_MAX + 1) }),
        "INVALID_ARGUMENT",
      );
      await expectAppError(bob.client.mutation(api.comments.addComment, { postId, content: "" }), "INVALID_ARGUMENT");
      expect((await ada.client.query(api.posts.getPost, { postId }))?.comments).toBe(1);
    });

    it(`bio: ${BIO_MAX} characters pass, ${BIO_MAX + 1} fail`, async () => {
      const ada = await signUp(get());
      await ada.client.mutation(api.users.updateProfile, { fullname: "Ada", bio: "b".repeat(BIO_MAX) });
      await expectAppError(
        ada.client.mutation(api.users.updateProfile, { fullname: "Ada", bio: "b".repeat(BIO_MAX + 1) }),
        "INVALID_ARGUMENT",
      );
      expect((await ada.client.query(api.users.getCurrentUser))?.bio).toBe("b".repeat(BIO_MAX));
    });

    it(`full name: ${FULLNAME_MAX} characters pass, ${FULLNAME_MAX + 1} fail, blank fails`, async () => {
      const ada = await signUp(get());
      await ada.client.mutation(api.users.updateProfile, { fullname: "f".repeat(FULLNAME_MAX) });
      await expectAppError(
        ada.client.mutation(api.users.updateProfile, { fullname: "f".repeat(FULLNAME_MAX + 1) }),
        "INVALID_ARGUMENT",
      );
      await expectAppError(ada.client.mutation(api.users.updateProfile, { fullname: "   " }), "INVALID_ARGUMENT");
      expect((await ada.client.query(api.users.getCurrentUser))?.fullname).toBe("f".repeat(FULLNAME_MAX));
    });

    it(`username: ${USERNAME_MAX} of [a-z0-9._] pass, ${USERNAME_MAX + 1} or other characters fail`, async () => {
      const ada = await signUp(get());
      const atLimit = "a.b_9".repeat(USERNAME_MAX / 5);
      await ada.client.mutation(api.users.updateProfile, { fullname: "Ada", username: atLimit });
      expect((await ada.client.query(api.users.getCurrentUser))?.username).toBe(atLimit);
      for (const bad of ["u".repeat(USERNAME_MAX + 1), "", "Upper", "with space", "dash-ed", "émile", "@at"]) {
        await expectAppError(ada.client.mutation(api.users.updateProfile, { fullname: "Ada", username: bad }), "INVALID_ARGUMENT");
      }
      expect((await ada.client.query(api.users.getCurrentUser))?.username).toBe(atLimit);
    });
  },
);
