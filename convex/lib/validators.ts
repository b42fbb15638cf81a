import { v, type Infer } from "convex/values";

/**
 * Validators defined once: `schema.ts` builds its tables from the field sets
 * below, and functions build their argument and return validators from the
 * same pieces, so a field cannot drift between storage and the API.
 */

/** The kinds of notification. */
const notificationType = v.union(
  v.literal("like"),
  v.literal("comment"),
  v.literal("follow"),
  v.literal("mention"),
);

export const userFields = {
  username: v.string(),
  fullname: v.string(),
  email: v.string(),
  bio: v.optional(v.string()),
  image: v.string(),
  followers: v.number(),
  following: v.number(),
  posts: v.number(),
  clerkId: v.string(),
  /**
   * The full name Clerk last sent. `user.updated` applies Clerk's name only
   * when it differs from this, so a name edited in the app survives Clerk
   * updates that did not touch the name (the latest edit wins).
   */
  clerkFullname: v.optional(v.string()),
  /**
   * Username and full name in one text, the search field of `search_name`
   * (a search index has one search field). Written with every change of
   * either (`model/user-search.ts`); optional only for rows written before
   * search existed.
   */
  searchText: v.optional(v.string()),
};

export const postFields = {
  userId: v.id("users"),
  imageUrl: v.string(),
  storageId: v.id("_storage"),
  caption: v.optional(v.string()),
  likes: v.number(),
  comments: v.number(),
};

export const likeFields = { userId: v.id("users"), postId: v.id("posts") };

export const commentFields = {
  userId: v.id("users"),
  postId: v.id("posts"),
  content: v.string(),
};

export const followFields = {
  followerId: v.id("users"),
  followingId: v.id("users"),
};

export const notificationFields = {
  receiverId: v.id("users"),
  senderId: v.id("users"),
  type: notificationType,
  postId: v.optional(v.id("posts")),
  commentId: v.optional(v.id("comments")),
  read: v.optional(v.boolean()),
};

export const bookmarkFields = { userId: v.id("users"), postId: v.id("posts") };

/**
 * One hashtag of one post's caption (lowercased), so a tag's page is an
 * index range in post order rather than a text search that would also match
 * the plain word.
 */
export const postTagFields = {
  tag: v.string(),
  postId: v.id("posts"),
  /** The post's `_creationTime`: a tag added by an edit still sorts by post time. */
  postedAt: v.number(),
};

/** One post in one user's following feed (fan-out on write). */
export const feedItemFields = {
  ownerId: v.id("users"),
  postId: v.id("posts"),
  authorId: v.id("users"),
  /** The post's `_creationTime`, so the feed sorts by when posts were made. */
  postedAt: v.number(),
};

/** What the identity provider tells us about a user (see `model/accounts.ts`). */
export const identityProfile = v.object({
  clerkId: v.string(),
  /** "" when the user has no email address (phone or OAuth-only sign-ups). */
  email: v.string(),
  /** Raw texts to derive a username from, best first (need not be valid). */
  usernameHints: v.array(v.string()),
  fullname: v.string(),
  image: v.string(),
});
export type IdentityProfile = Infer<typeof identityProfile>;

/** A Clerk webhook delivery already handled, keyed by its `svix-id`. */
export const webhookEventFields = { svixId: v.string(), type: v.string() };

/** An upload URL handed to a user; consumed by the post that uses the file. */
export const uploadTicketFields = { userId: v.id("users") };

/** Progress of the orphan-upload sweep: files up to `cursor` were checked. */
export const sweepStateFields = { name: v.string(), cursor: v.number() };

const system = <T extends string>(table: T) => ({
  _id: v.id(table),
  _creationTime: v.number(),
});

/** A post document as stored. */
export const postDoc = v.object({ ...system("posts"), ...postFields });

/** The caller's own user record, private fields included. */
export const userDoc = v.object({ ...system("users"), ...userFields });

/** What anyone may see of a user: no email, no clerkId. */
export const publicUser = v.object({
  ...system("users"),
  username: userFields.username,
  fullname: userFields.fullname,
  bio: userFields.bio,
  image: userFields.image,
  followers: userFields.followers,
  following: userFields.following,
  posts: userFields.posts,
});
export type PublicUser = Infer<typeof publicUser>;

/** A user in a list (followers, likers, search results). */
export const userSummary = v.object({
  _id: v.id("users"),
  username: v.string(),
  fullname: v.string(),
  image: v.string(),
});
export type UserSummary = Infer<typeof userSummary>;

/** A post as feeds show it (the common front ends' shape). */
export const feedPost = v.object({
  ...system("posts"),
  ...postFields,
  author: v.object({ _id: v.id("users"), username: v.string(), image: v.string() }),
  isLiked: v.boolean(),
  isBookmarked: v.boolean(),
});
export type FeedPost = Infer<typeof feedPost>;

/** A comment with its author, as `getComments` returns it. */
export const commentWithUser = v.object({
  ...system("comments"),
  ...commentFields,
  user: v.object({
    _id: v.id("users"),
    fullname: v.string(),
    username: v.string(),
    image: v.string(),
  }),
});
export type CommentWithUser = Infer<typeof commentWithUser>;

/** A notification with what the list shows next to it. */
export const notificationWithDetails = v.object({
  ...system("notifications"),
  ...notificationFields,
  sender: v.object({ _id: v.id("users"), username: v.string(), image: v.string() }),
  post: v.union(postDoc, v.null()),
  comment: v.optional(v.string()),
});
export type NotificationWithDetails = Infer<typeof notificationWithDetails>;
