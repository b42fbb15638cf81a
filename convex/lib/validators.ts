import { v, type Infer, type Validator } from "convex/values";

/**
 * Validators defined once: `schema.ts` builds its tables from the field sets
 * below, and functions build their argument and return validators from the
 * same pieces, so a field cannot drift between storage and the API.
 */

/**
 * The kinds of notification. `post_rejected` tells an author that their
 * photo could not be processed (the post was removed; `message` says why).
 */
const notificationType = v.union(
  v.literal("like"),
  v.literal("comment"),
  v.literal("follow"),
  v.literal("post_rejected"),
  // Someone asked to follow a private account (sender → receiver); it
  // becomes a `follow` notification when the request is accepted.
  v.literal("follow_request"),
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
   * A private account: its posts, likers, comments and follower lists are
   * shown only to approved followers and itself, and following it needs an
   * accepted request (`model/visibility.ts`). Missing means public.
   */
  isPrivate: v.optional(v.boolean()),
  /**
   * Username and full name in one text, the search field of `search_name`
   * (a search index has one search field). Written with every change of
   * either (`model/user-search.ts`); optional only for rows written before
   * search existed.
   */
  searchText: v.optional(v.string()),
};

/**
 * Where a post's photo is in its processing (`imaging.ts`): "processing"
 * from `createPost` until its variants exist, "ready" after. Posts made
 * before processing existed have neither until `migrations.derivePostImages`
 * processes them.
 */
const imageState = v.union(v.literal("processing"), v.literal("ready"));

export const postFields = {
  userId: v.id("users"),
  /**
   * Legacy: the absolute file URL earlier versions stored, which broke when
   * the data moved to another deployment. Never read; results derive
   * `imageUrl` from `storageId` at read time, and
   * `migrations.derivePostImages` removes this field.
   */
  imageUrl: v.optional(v.string()),
  /** The photo at full resolution; once processed, a metadata-free copy. */
  storageId: v.id("_storage"),
  caption: v.optional(v.string()),
  likes: v.number(),
  comments: v.number(),
  imageState: v.optional(imageState),
  /** Display variant, longest side DISPLAY_MAX_SIDE (set when processed). */
  displayId: v.optional(v.id("_storage")),
  /** Thumbnail, longest side THUMBNAIL_MAX_SIDE (set when processed). */
  thumbnailId: v.optional(v.id("_storage")),
  /** Pixel size of the photo as shown (orientation applied). */
  width: v.optional(v.number()),
  height: v.optional(v.number()),
  /** A ThumbHash of the photo (base64): a blurred preview in ~25 bytes. */
  placeholder: v.optional(v.string()),
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
  /** Why a post was rejected (`post_rejected` only). */
  message: v.optional(v.string()),
};

export const bookmarkFields = { userId: v.id("users"), postId: v.id("posts") };

/**
 * `blockerId` blocked `blockedId`: neither sees the other's posts, profile
 * or list entries, and neither can follow, like, comment on or mention the
 * other (`model/visibility.ts`). The blocked user is not told.
 */
export const blockFields = { blockerId: v.id("users"), blockedId: v.id("users") };

/** A request by `requesterId` to follow the private account `targetId`. */
export const followRequestFields = { requesterId: v.id("users"), targetId: v.id("users") };

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

const nullable = <T extends Validator<string | number, "required", string>>(validator: T) =>
  v.union(validator, v.null());

/**
 * A post as clients see it: the common front ends' fields, with `imageUrl`
 * made from `storageId` at read time (so it follows the data to another
 * deployment), plus the processed sizes. `displayUrl`, `thumbnailUrl`,
 * `placeholder`, `width` and `height` are null until the photo is processed.
 */
const postViewFields = {
  ...system("posts"),
  userId: postFields.userId,
  storageId: postFields.storageId,
  caption: postFields.caption,
  likes: postFields.likes,
  comments: postFields.comments,
  imageUrl: v.string(),
  displayUrl: nullable(v.string()),
  thumbnailUrl: nullable(v.string()),
  placeholder: nullable(v.string()),
  width: nullable(v.number()),
  height: nullable(v.number()),
};
export const postView = v.object(postViewFields);
export type PostView = Infer<typeof postView>;

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
  /** Whether only approved followers see this account's posts and lists. */
  isPrivate: v.boolean(),
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

/** Where the caller stands with an account (`users.toggleFollow`, `users.getFollowStatus`). */
export const followStatus = v.union(v.literal("following"), v.literal("requested"), v.literal("not_following"));

/** A pending request to follow the caller, with who asked. */
export const followRequestView = v.object({
  ...system("followRequests"),
  user: userSummary,
});
export type FollowRequestView = Infer<typeof followRequestView>;

/** A post as feeds show it (the common front ends' shape). */
export const feedPost = v.object({
  ...postViewFields,
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
  post: v.union(postView, v.null()),
  comment: v.optional(v.string()),
});
export type NotificationWithDetails = Infer<typeof notificationWithDetails>;
