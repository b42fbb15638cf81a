import { expect, it } from "vitest";
import { api } from "../../convex/_generated/api";
import { BATCH_SIZE, NOTIFICATIONS_LIMIT, UNREAD_COUNT_CAP } from "../../convex/lib/limits";
import { describeEach } from "./harness";
import { signUpMany } from "./support/accounts";
import { postImage } from "./support/content";
import { expectAppError } from "./support/errors";

describeEach(
  "notifications",
  (get) => {
    it("likes, comments and follows notify the receiver, with sender, post and comment text", async () => {
      const [ada, bob] = await signUpMany(get(), 2);
      const postId = await postImage(get(), ada, "sunset");
      await bob.client.mutation(api.posts.toggleLike, { postId });
      await bob.client.mutation(api.comments.addComment, { postId, content: "wow" });
      await bob.client.mutation(api.users.toggleFollow, { followingId: ada.id });

      const list = await ada.client.query(api.notifications.getNotifications);
      expect(list.map((n) => n.type)).toEqual(["follow", "comment", "like"]);
      const sender = { _id: bob.id, username: bob.username, image: expect.any(String) };
      expect(list[0]).toMatchObject({ receiverId: ada.id, senderId: bob.id, sender, post: null, read: false });
      expect(list[0]).not.toHaveProperty("comment");
      expect(list[1]).toMatchObject({ sender, comment: "wow", post: { _id: postId, caption: "sunset" } });
      expect(list[2]).toMatchObject({ sender, post: { _id: postId } });
      expect(list[2]).not.toHaveProperty("comment");
      expect(await bob.client.query(api.notifications.getNotifications)).toEqual([]);
    });

    it("your own likes, comments and follows do not notify you", async () => {
      const [ada] = await signUpMany(get(), 1);
      const postId = await postImage(get(), ada);
      await ada.client.mutation(api.posts.toggleLike, { postId });
      await ada.client.mutation(api.comments.addComment, { postId, content: "me" });
      await expectAppError(ada.client.mutation(api.users.toggleFollow, { followingId: ada.id }), "INVALID_ARGUMENT");
      expect(await get().documents("notifications")).toEqual([]);
    });

    it("unlike and unfollow take their notification back; re-like and re-follow never duplicate it", async () => {
      const [ada, bob] = await signUpMany(get(), 2);
      const postId = await postImage(get(), ada);
      const types = async () => (await ada.client.query(api.notifications.getNotifications)).map((n) => n.type);

      await bob.client.mutation(api.posts.toggleLike, { postId });
      await bob.client.mutation(api.users.toggleFollow, { followingId: ada.id });
      expect(await types()).toEqual(["follow", "like"]);
      await bob.client.mutation(api.posts.toggleLike, { postId });
      await bob.client.mutation(api.users.toggleFollow, { followingId: ada.id });
      expect(await types()).toEqual([]);
      for (let i = 0; i < 3; i += 1) {
        await bob.client.mutation(api.posts.toggleLike, { postId });
        await bob.client.mutation(api.posts.toggleLike, { postId });
        await bob.client.mutation(api.users.toggleFollow, { followingId: ada.id });
        await bob.client.mutation(api.users.toggleFollow, { followingId: ada.id });
      }
      await bob.client.mutation(api.posts.toggleLike, { postId });
      await bob.client.mutation(api.users.toggleFollow, { followingId: ada.id });
      expect(await types()).toEqual(["follow", "like"]);
      expect(await get().documents("notifications")).toHaveLength(2);
    });

    it("deleting a comment or a post takes its notifications back", async () => {
      const [ada, bob] = await signUpMany(get(), 2);
      const postId = await postImage(get(), ada);
      const other = await postImage(get(), ada);
      const commentId = await bob.client.mutation(api.comments.addComment, { postId, content: "x" });
      await bob.client.mutation(api.comments.addComment, { postId: other, content: "y" });
      await bob.client.mutation(api.posts.toggleLike, { postId: other });

      await bob.client.mutation(api.comments.deleteComment, { commentId });
      expect((await ada.client.query(api.notifications.getNotifications)).map((n) => n.comment)).toEqual([
        undefined,
        "y",
      ]);
      await ada.client.mutation(api.posts.deletePost, { postId: other });
      expect(await ada.client.query(api.notifications.getNotifications)).toEqual([]);
      await get().drainScheduled();
      expect(await get().documents("notifications")).toEqual([]);
    });

    it("getUnreadCount, markRead and markAllRead", async () => {
      const [ada, bob, carl] = await signUpMany(get(), 3);
      await bob.client.mutation(api.users.toggleFollow, { followingId: ada.id });
      await carl.client.mutation(api.users.toggleFollow, { followingId: ada.id });
      expect(await ada.client.query(api.notifications.getUnreadCount)).toBe(2);

      const [newest] = await ada.client.query(api.notifications.getNotifications);
      await ada.client.mutation(api.notifications.markRead, { notificationId: newest._id });
      expect(await ada.client.query(api.notifications.getUnreadCount)).toBe(1);
      expect((await ada.client.query(api.notifications.getNotifications))[0].read).toBe(true);

      await ada.client.mutation(api.notifications.markAllRead);
      expect(await ada.client.query(api.notifications.getUnreadCount)).toBe(0);
      await bob.client.mutation(api.users.toggleFollow, { followingId: carl.id });
      expect(await carl.client.query(api.notifications.getUnreadCount)).toBe(1);
    });

    it("only the receiver can mark a notification read", async () => {
      const [ada, bob] = await signUpMany(get(), 2);
      await bob.client.mutation(api.users.toggleFollow, { followingId: ada.id });
      const [notification] = await ada.client.query(api.notifications.getNotifications);
      await expectAppError(
        bob.client.mutation(api.notifications.markRead, { notificationId: notification._id }),
        "FORBIDDEN",
      );
      expect(await ada.client.query(api.notifications.getUnreadCount)).toBe(1);
    });

    it(`lists the newest ${NOTIFICATIONS_LIMIT}, counts unread up to ${UNREAD_COUNT_CAP}, and marks all read in batches`, async () => {
      const [ada, bob] = await signUpMany(get(), 2);
      const postId = await postImage(get(), ada);
      const total = BATCH_SIZE + 20;
      for (let i = 0; i < total; i += 1) {
        await bob.client.mutation(api.comments.addComment, { postId, content: `c${i}` });
      }
      const list = await ada.client.query(api.notifications.getNotifications);
      expect(list).toHaveLength(NOTIFICATIONS_LIMIT);
      expect(list[0].comment).toBe(`c${total - 1}`);
      expect(await ada.client.query(api.notifications.getUnreadCount)).toBe(UNREAD_COUNT_CAP);

      await ada.client.mutation(api.notifications.markAllRead);
      await get().drainScheduled();
      expect(await ada.client.query(api.notifications.getUnreadCount)).toBe(0);
      const unread = (await get().documents("notifications")).filter((n) => n.read !== true);
      expect(unread).toEqual([]);
    });

    it("notification queries need a signed-in account", async () => {
      const anonymous = get().client(null);
      await expectAppError(anonymous.query(api.notifications.getNotifications), "UNAUTHENTICATED");
      await expectAppError(anonymous.query(api.notifications.getUnreadCount), "UNAUTHENTICATED");
      await expectAppError(anonymous.mutation(api.notifications.markAllRead), "UNAUTHENTICATED");
    });
  },
);
