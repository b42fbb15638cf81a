import { expect, it, vi } from "vitest";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { describeEach, type AppBackend } from "./harness";
import { signUp, type TestUser } from "./support/accounts";
import { postImage } from "./support/content";
import { expectAppError } from "./support/errors";
import { allItems } from "./support/pages";
import { pick, seededRandom } from "../../packages/engine/test/support/seeded-random";

/**
 * A seeded random run of several hundred user actions, blocks, follow
 * requests and privacy switches among them. Throughout, every counter
 * equals the rows it counts (even while clean-ups are pending); after the
 * background work drains, the data matches a model of what the users did:
 * no dangling rows, no duplicates, exactly the notifications and feed
 * entries the rules call for, and no file without its post. Every action on
 * a post the model says the user may not see (blocked either way, or a
 * private author they do not follow) must be refused as NOT_FOUND.
 */

// Several hundred calls over HTTP, each photo processed: on a busy machine
// the engine's run needs well over the default 30 s.
vi.setConfig({ testTimeout: 180_000 });

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
  blocks = new Set<string>();
  requests = new Set<string>();
  privates = new Set<string>();

  blockedBetween(a: string, b: string): boolean {
    return this.blocks.has(key(a, b)) || this.blocks.has(key(b, a));
  }

  /** The rule of `model/visibility.ts`, restated. */
  canSee(viewer: string, postId: string): boolean {
    const author = this.posts.get(postId)!.author;
    if (author === viewer) return true;
    if (this.blockedBetween(viewer, author)) return false;
    return !this.privates.has(author) || this.follows.has(key(viewer, author));
  }

  removeUser(id: string): void {
    this.users.delete(id);
    this.privates.delete(id);
    for (const [postId, post] of this.posts) if (post.author === id) this.removePost(postId);
    const mentions = (entry: string) => entry.split("|").includes(id);
    for (const set of [this.follows, this.likes, this.bookmarks, this.blocks, this.requests]) {
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

const TABLES = [
  "users",
  "posts",
  "likes",
  "comments",
  "follows",
  "bookmarks",
  "notifications",
  "feedItems",
  "blocks",
  "followRequests",
  "_storage",
];

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
  expect(sorted(t.blocks.map((b) => key(b.blockerId, b.blockedId)))).toEqual(sorted(model.blocks));
  expect(sorted(t.followRequests.map((r) => key(r.requesterId, r.targetId)))).toEqual(sorted(model.requests));
  const privates = t.users.filter((u) => u.isPrivate === true).map((u) => String(u._id));
  expect(sorted(privates)).toEqual(sorted(model.privates));

  // Notifications: one per like, follow, follow request and comment by someone else, nothing more.
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
  for (const request of model.requests) {
    const [a, b] = request.split("|");
    expected.push(key("follow_request", a, b, undefined));
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

      const checkpoint = async (done: number) => {
        if (done % 50 === 0) await checkCounters(get(), `after step ${done}`);
        if (done % 200 === 0) {
          await get().drainScheduled();
          await checkCounters(get(), `drained after step ${done}`);
          await checkAgainstModel(get(), model);
        }
      };
      for (let step = 0; step < ACTIONS; step += 1) {
        // Checks run before each action (a refused action ends its step early).
        if (step > 0) await checkpoint(step);
        const roll = random();
        const me = anyUser();
        if (roll < 0.18) {
          const other = anyUser();
          const follow = () => me.client.mutation(api.users.toggleFollow, { followingId: other.id });
          const edge = key(me.id, other.id);
          if (other.id === me.id) {
            await expectAppError(follow(), "INVALID_ARGUMENT");
          } else if (model.blockedBetween(me.id, other.id)) {
            await expectAppError(follow(), "NOT_FOUND");
          } else if (model.follows.has(edge)) {
            expect(await follow()).toBe("not_following");
            model.follows.delete(edge);
          } else if (model.requests.has(edge)) {
            expect(await follow()).toBe("not_following");
            model.requests.delete(edge);
          } else if (model.privates.has(other.id)) {
            expect(await follow()).toBe("requested");
            model.requests.add(edge);
          } else {
            expect(await follow()).toBe("following");
            model.follows.add(edge);
          }
        } else if (roll < 0.23) {
          const other = anyUser();
          const edge = key(me.id, other.id);
          if (other.id === me.id) {
            await expectAppError(me.client.mutation(api.users.blockUser, { userId: me.id }), "INVALID_ARGUMENT");
          } else if (model.blocks.has(edge)) {
            await me.client.mutation(api.users.unblockUser, { userId: other.id });
            model.blocks.delete(edge);
          } else {
            await me.client.mutation(api.users.blockUser, { userId: other.id });
            model.blocks.add(edge);
            for (const pair of [edge, key(other.id, me.id)]) {
              model.follows.delete(pair);
              model.requests.delete(pair);
            }
          }
        } else if (roll < 0.27) {
          const isPrivate = !model.privates.has(me.id);
          await me.client.mutation(api.users.updateProfile, { fullname: "Test User", isPrivate });
          if (isPrivate) {
            model.privates.add(me.id);
          } else {
            model.privates.delete(me.id);
            // Going public accepts every pending request (one batch here: few users).
            for (const request of [...model.requests]) {
              if (request.split("|")[1] !== me.id) continue;
              model.requests.delete(request);
              model.follows.add(request);
            }
          }
        } else if (roll < 0.32 && model.requests.size > 0) {
          const request = pick(random, [...model.requests]);
          const [requesterId, targetId] = request.split("|");
          const target = model.users.get(targetId)!;
          const listed = await allItems((p) => target.client.query(api.users.getFollowRequests, { paginationOpts: p }));
          const row = listed.find((r) => r.user._id === requesterId)!;
          expect(row, "a pending request is listed to its target").toBeDefined();
          const requester = model.users.get(requesterId)!;
          await expectAppError(
            requester.client.mutation(api.users.respondToFollowRequest, { requestId: row._id, accept: true }),
            "FORBIDDEN",
          );
          const accept = random() < 0.7;
          await target.client.mutation(api.users.respondToFollowRequest, { requestId: row._id, accept });
          model.requests.delete(request);
          if (accept) model.follows.add(request);
        } else if (roll < 0.4 || model.posts.size === 0) {
          const postId = await postImage(get(), me, `step ${step}`);
          model.posts.set(postId, { author: me.id });
        } else if (roll < 0.58) {
          const postId = anyPost();
          const edge = key(me.id, postId);
          if (!model.canSee(me.id, postId)) {
            await expectAppError(me.client.mutation(api.posts.toggleLike, { postId }), "NOT_FOUND");
            continue;
          }
          const liked = await me.client.mutation(api.posts.toggleLike, { postId });
          expect(liked).toBe(!model.likes.has(edge));
          if (liked) model.likes.add(edge);
          else model.likes.delete(edge);
        } else if (roll < 0.67) {
          const postId = anyPost();
          if (!model.canSee(me.id, postId)) {
            await expectAppError(me.client.mutation(api.comments.addComment, { postId, content: "x" }), "NOT_FOUND");
            continue;
          }
          const commentId = await me.client.mutation(api.comments.addComment, { postId, content: `c${step}` });
          model.comments.set(commentId, { author: me.id, post: postId });
        } else if (roll < 0.73 && model.comments.size > 0) {
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
        } else if (roll < 0.83) {
          const postId = anyPost();
          const edge = key(me.id, postId);
          if (!model.canSee(me.id, postId)) {
            await expectAppError(me.client.mutation(api.bookmarks.toggleBookmark, { postId }), "NOT_FOUND");
            continue;
          }
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
      }
      await checkpoint(ACTIONS);
    });
  },
);
