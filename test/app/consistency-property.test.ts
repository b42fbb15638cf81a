import { expect, it } from "vitest";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { describeEach, type AppBackend } from "./harness";
import { signUp, type TestUser } from "./support/accounts";
import { postImage } from "./support/content";
import { expectAppError } from "./support/errors";
import { pick, seededRandom } from "../support/seeded-random";

/**
 * A seeded random run of several hundred user actions. Throughout, every
 * counter equals the rows it counts (even while clean-ups are pending);
 * after the background work drains, the data matches a model of what the
 * users did: no dangling rows, no duplicates, exactly the notifications and
 * feed entries the rules call for, and no file without its post.
 */

const SEED = 0x1a57a;
const ACTIONS = 400;

type Row = Record<string, unknown>;
const key = (...parts: unknown[]) => parts.map(String).join("|");

/** What the users did, as the test saw it. */
class Model {
  users = new Map<string, TestUser>();
  posts = new Map<string, { author: string }>();
  follows = new Set<string>();
  likes = new Set<string>();
  bookmarks = new Set<string>();
  comments = new Map<string, { author: string; post: string }>();

  removeUser(id: string): void {
    this.users.delete(id);
    for (const [postId, post] of this.posts) if (post.author === id) this.removePost(postId);
    const mentions = (entry: string) => entry.split("|").includes(id);
    for (const set of [this.follows, this.likes, this.bookmarks]) {
      for (const entry of [...set]) if (mentions(entry)) set.delete(entry);
    }
    for (const [commentId, c] of this.comments) if (c.author === id) this.comments.delete(commentId);
  }

  removePost(id: string): void {
    this.posts.delete(id);
    for (const set of [this.likes, this.bookmarks]) {
      for (const entry of [...set]) if (entry.endsWith(`|${id}`)) set.delete(entry);
    }
    for (const [commentId, c] of this.comments) if (c.post === id) this.comments.delete(commentId);
  }
}

const TABLES = ["users", "posts", "likes", "comments", "follows", "bookmarks", "notifications", "feedItems", "_storage"];

/**
 * All tables, read table by table. A backend that runs scheduled work in the
 * background may change rows between two reads, so read until two rounds
 * agree: a consistent picture, mid-cascade or not.
 */
async function tables(backend: AppBackend): Promise<Record<string, Row[]>> {
  const readAll = async () => {
    const out: Record<string, Row[]> = {};
    for (const name of TABLES) out[name] = await backend.documents(name);
    return out;
  };
  let previous = await readAll();
  for (let round = 0; round < 50; round += 1) {
    const current = await readAll();
    if (JSON.stringify(current) === JSON.stringify(previous)) return current;
    previous = current;
  }
  throw new Error("the data kept changing while being read");
}

const countBy = (rows: Row[], field: string) => {
  const counts = new Map<unknown, number>();
  for (const row of rows) counts.set(row[field], (counts.get(row[field]) ?? 0) + 1);
  return (value: unknown) => counts.get(value) ?? 0;
};

/** Counters equal rows, at any moment. */
async function checkCounters(backend: AppBackend, when: string): Promise<void> {
  const t = await tables(backend);
  const followers = countBy(t.follows, "followingId");
  const following = countBy(t.follows, "followerId");
  const postsBy = countBy(t.posts, "userId");
  for (const user of t.users) {
    expect([user.followers, user.following, user.posts], `${when}: counters of ${String(user.username)}`).toEqual([
      followers(user._id),
      following(user._id),
      postsBy(user._id),
    ]);
  }
  const likes = countBy(t.likes, "postId");
  const comments = countBy(t.comments, "postId");
  for (const post of t.posts) {
    expect([post.likes, post.comments], `${when}: counters of post ${String(post._id)}`).toEqual([
      likes(post._id),
      comments(post._id),
    ]);
  }
}

/** After draining: the data is exactly what the model says. */
async function checkAgainstModel(backend: AppBackend, model: Model): Promise<void> {
  const t = await tables(backend);
  const sorted = (values: Iterable<string>) => [...values].sort();
  expect(sorted(t.users.map((u) => String(u._id)))).toEqual(sorted(model.users.keys()));
  expect(sorted(t.posts.map((p) => String(p._id)))).toEqual(sorted(model.posts.keys()));
  expect(sorted(t.follows.map((f) => key(f.followerId, f.followingId)))).toEqual(sorted(model.follows));
  expect(sorted(t.likes.map((l) => key(l.userId, l.postId)))).toEqual(sorted(model.likes));
  expect(sorted(t.bookmarks.map((b) => key(b.userId, b.postId)))).toEqual(sorted(model.bookmarks));
  expect(sorted(t.comments.map((c) => String(c._id)))).toEqual(sorted(model.comments.keys()));

  // Notifications: one per like, follow and comment by someone else, nothing more.
  const expected: string[] = [];
  for (const like of model.likes) {
    const [userId, postId] = like.split("|");
    const author = model.posts.get(postId)!.author;
    if (author !== userId) expected.push(key("like", userId, author, postId));
  }
  for (const follow of model.follows) {
    const [a, b] = follow.split("|");
    expected.push(key("follow", a, b, undefined));
  }
  for (const [commentId, c] of model.comments) {
    const author = model.posts.get(c.post)!.author;
    if (author !== c.author) expected.push(key("comment", c.author, author, c.post, commentId));
  }
  const actual = t.notifications.map((n) =>
    n.type === "comment"
      ? key(n.type, n.senderId, n.receiverId, n.postId, n.commentId)
      : key(n.type, n.senderId, n.receiverId, n.postId),
  );
  expect(sorted(actual)).toEqual(sorted(expected));

  // Feeds: your posts and those of everyone you follow, each once.
  const feeds: string[] = [];
  for (const [postId, post] of model.posts) {
    feeds.push(key(post.author, postId));
    for (const follow of model.follows) {
      const [a, b] = follow.split("|");
      if (b === post.author) feeds.push(key(a, postId));
    }
  }
  expect(sorted(t.feedItems.map((f) => key(f.ownerId, f.postId)))).toEqual(sorted(feeds));

  // Files: exactly the posts' photos and their processed variants.
  const postFiles = t.posts.flatMap((p) => [p.storageId, p.displayId, p.thumbnailId].filter((id) => id !== undefined));
  expect(sorted(t._storage.map((f) => String(f._id)))).toEqual(sorted(postFiles.map(String)));
}

describeEach(
  "consistency under random use",
  (get) => {
    it(`keeps counters exact and data consistent over ${ACTIONS} seeded random actions`, async () => {
      const random = seededRandom(SEED);
      const model = new Model();
      const join = async () => {
        const user = await signUp(get());
        model.users.set(user.id, user);
      };
      for (let i = 0; i < 8; i += 1) await join();
      const anyUser = () => pick(random, [...model.users.values()]);
      const anyPost = () => pick(random, [...model.posts.keys()]) as Id<"posts">;

      for (let step = 0; step < ACTIONS; step += 1) {
        const roll = random();
        const me = anyUser();
        if (roll < 0.22) {
          const other = anyUser();
          if (other.id === me.id) {
            await expectAppError(me.client.mutation(api.users.toggleFollow, { followingId: me.id }), "INVALID_ARGUMENT");
          } else {
            const edge = key(me.id, other.id);
            const had = model.follows.has(edge);
            await me.client.mutation(api.users.toggleFollow, { followingId: other.id });
            if (had) model.follows.delete(edge);
            else model.follows.add(edge);
          }
        } else if (roll < 0.32 || model.posts.size === 0) {
          const postId = await postImage(get(), me, `step ${step}`);
          model.posts.set(postId, { author: me.id });
        } else if (roll < 0.55) {
          const postId = anyPost();
          const edge = key(me.id, postId);
          const liked = await me.client.mutation(api.posts.toggleLike, { postId });
          expect(liked).toBe(!model.likes.has(edge));
          if (liked) model.likes.add(edge);
          else model.likes.delete(edge);
        } else if (roll < 0.67) {
          const postId = anyPost();
          const commentId = await me.client.mutation(api.comments.addComment, { postId, content: `c${step}` });
          model.comments.set(commentId, { author: me.id, post: postId });
        } else if (roll < 0.75 && model.comments.size > 0) {
          const [commentId, comment] = pick(random, [...model.comments.entries()]);
          const author = model.users.get(comment.author)!;
          if (author.id !== me.id) {
            await expectAppError(
              me.client.mutation(api.comments.deleteComment, { commentId: commentId as Id<"comments"> }),
              "FORBIDDEN",
            );
          }
          await author.client.mutation(api.comments.deleteComment, { commentId: commentId as Id<"comments"> });
          model.comments.delete(commentId);
        } else if (roll < 0.87) {
          const postId = anyPost();
          const edge = key(me.id, postId);
          const saved = await me.client.mutation(api.bookmarks.toggleBookmark, { postId });
          expect(saved).toBe(!model.bookmarks.has(edge));
          if (saved) model.bookmarks.add(edge);
          else model.bookmarks.delete(edge);
        } else if (roll < 0.97) {
          const postId = anyPost();
          const author = model.users.get(model.posts.get(postId)!.author)!;
          await author.client.mutation(api.posts.deletePost, { postId });
          model.removePost(postId);
        } else {
          await me.client.mutation(api.users.deleteAccount);
          model.removeUser(me.id);
          await join();
        }

        if ((step + 1) % 50 === 0) await checkCounters(get(), `after step ${step + 1}`);
        if ((step + 1) % 200 === 0) {
          await get().drainScheduled();
          await checkCounters(get(), `drained after step ${step + 1}`);
          await checkAgainstModel(get(), model);
        }
      }
    });
  },
);
