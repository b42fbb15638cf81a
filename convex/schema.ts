import { defineSchema, defineTable } from "convex/server";
import {
  bookmarkFields,
  commentFields,
  feedItemFields,
  followFields,
  likeFields,
  notificationFields,
  postFields,
  postTagFields,
  sweepStateFields,
  uploadTicketFields,
  userFields,
  webhookEventFields,
} from "./lib/validators";

/**
 * The seven tables every common front end expects, plus the bookkeeping
 * tables correctness needs (feed items, processed webhooks, upload tickets,
 * sweep state). Each index exists because a function reads through it;
 * nothing scans a whole table.
 */
export default defineSchema({
  users: defineTable(userFields)
    .index("by_clerk_id", ["clerkId"])
    .index("by_username", ["username"])
    // searchUsers: username and full name together, relevance order.
    .searchIndex("search_name", { searchField: "searchText" }),

  posts: defineTable(postFields)
    .index("by_user", ["userId"])
    // One file backs at most one post; the sweep asks "is this file used?".
    .index("by_storage", ["storageId"])
    // searchPosts: caption words, relevance order.
    .searchIndex("search_caption", { searchField: "caption" }),

  // getPostsByHashtag, newest post first; by_post for edits and deletion.
  postTags: defineTable(postTagFields)
    .index("by_tag_and_time", ["tag", "postedAt"])
    .index("by_post", ["postId"]),

  likes: defineTable(likeFields)
    .index("by_post", ["postId"])
    .index("by_user_and_post", ["userId", "postId"]),

  comments: defineTable(commentFields)
    .index("by_post", ["postId"])
    // Account deletion finds a user's comments on other people's posts.
    .index("by_user", ["userId"]),

  follows: defineTable(followFields)
    .index("by_follower", ["followerId"])
    .index("by_following", ["followingId"])
    .index("by_both", ["followerId", "followingId"]),

  notifications: defineTable(notificationFields)
    .index("by_receiver", ["receiverId"])
    .index("by_post", ["postId"])
    // Unread count and mark-all-read; `read` is always written (false).
    .index("by_receiver_and_read", ["receiverId", "read"])
    // Finds "the" like/follow notification so unlikes/unfollows remove it;
    // its prefix also serves account deletion.
    .index("by_sender_and_target", ["senderId", "receiverId", "type", "postId"])
    .index("by_comment", ["commentId"])
    // A caption's mentions (commentId missing), diffed when it is edited.
    .index("by_post_type_and_comment", ["postId", "type", "commentId"]),

  bookmarks: defineTable(bookmarkFields)
    .index("by_user", ["userId"])
    .index("by_post", ["postId"])
    .index("by_user_and_post", ["userId", "postId"]),

  feedItems: defineTable(feedItemFields)
    .index("by_owner_and_time", ["ownerId", "postedAt"])
    .index("by_owner_and_post", ["ownerId", "postId"])
    .index("by_owner_and_author", ["ownerId", "authorId"])
    .index("by_post", ["postId"]),

  webhookEvents: defineTable(webhookEventFields).index("by_svix_id", ["svixId"]),

  uploadTickets: defineTable(uploadTicketFields).index("by_user", ["userId"]),

  sweepState: defineTable(sweepStateFields).index("by_name", ["name"]),
});
