/* eslint-disable */
/**
 * Generated `api` utility.
 *
 * THIS CODE IS AUTOMATICALLY GENERATED.
 *
 * To regenerate, run `npx convex dev`.
 * @module
 */

import type * as bookmarks from "../bookmarks.js";
import type * as cascades from "../cascades.js";
import type * as clerk from "../clerk.js";
import type * as comments from "../comments.js";
import type * as feed from "../feed.js";
import type * as http from "../http.js";
import type * as images from "../images.js";
import type * as imaging from "../imaging.js";
import type * as lib_auth from "../lib/auth.js";
import type * as lib_errors from "../lib/errors.js";
import type * as lib_input_rules from "../lib/input-rules.js";
import type * as lib_limits from "../lib/limits.js";
import type * as lib_pagination from "../lib/pagination.js";
import type * as lib_rate_limits from "../lib/rate-limits.js";
import type * as lib_text_entities from "../lib/text-entities.js";
import type * as lib_validators from "../lib/validators.js";
import type * as migrations from "../migrations.js";
import type * as model_account_cleanup from "../model/account-cleanup.js";
import type * as model_accounts from "../model/accounts.js";
import type * as model_batch_phases from "../model/batch-phases.js";
import type * as model_blocks from "../model/blocks.js";
import type * as model_caption_index from "../model/caption-index.js";
import type * as model_clerk_payload from "../model/clerk-payload.js";
import type * as model_counters from "../model/counters.js";
import type * as model_feed_items from "../model/feed-items.js";
import type * as model_follow_graph from "../model/follow-graph.js";
import type * as model_follow_lists from "../model/follow-lists.js";
import type * as model_mentions from "../model/mentions.js";
import type * as model_notify from "../model/notify.js";
import type * as model_post_cleanup from "../model/post-cleanup.js";
import type * as model_post_images from "../model/post-images.js";
import type * as model_post_lifecycle from "../model/post-lifecycle.js";
import type * as model_post_migration from "../model/post-migration.js";
import type * as model_post_tags from "../model/post-tags.js";
import type * as model_upload_tickets from "../model/upload-tickets.js";
import type * as model_user_search from "../model/user-search.js";
import type * as model_viewer_lists from "../model/viewer-lists.js";
import type * as model_views from "../model/views.js";
import type * as model_visibility from "../model/visibility.js";
import type * as notifications from "../notifications.js";
import type * as posts from "../posts.js";
import type * as uploads from "../uploads.js";
import type * as users from "../users.js";

import type {
  ApiFromModules,
  FilterApi,
  FunctionReference,
} from "convex/server";

declare const fullApi: ApiFromModules<{
  bookmarks: typeof bookmarks;
  cascades: typeof cascades;
  clerk: typeof clerk;
  comments: typeof comments;
  feed: typeof feed;
  http: typeof http;
  images: typeof images;
  imaging: typeof imaging;
  "lib/auth": typeof lib_auth;
  "lib/errors": typeof lib_errors;
  "lib/input-rules": typeof lib_input_rules;
  "lib/limits": typeof lib_limits;
  "lib/pagination": typeof lib_pagination;
  "lib/rate-limits": typeof lib_rate_limits;
  "lib/text-entities": typeof lib_text_entities;
  "lib/validators": typeof lib_validators;
  migrations: typeof migrations;
  "model/account-cleanup": typeof model_account_cleanup;
  "model/accounts": typeof model_accounts;
  "model/batch-phases": typeof model_batch_phases;
  "model/blocks": typeof model_blocks;
  "model/caption-index": typeof model_caption_index;
  "model/clerk-payload": typeof model_clerk_payload;
  "model/counters": typeof model_counters;
  "model/feed-items": typeof model_feed_items;
  "model/follow-graph": typeof model_follow_graph;
  "model/follow-lists": typeof model_follow_lists;
  "model/mentions": typeof model_mentions;
  "model/notify": typeof model_notify;
  "model/post-cleanup": typeof model_post_cleanup;
  "model/post-images": typeof model_post_images;
  "model/post-lifecycle": typeof model_post_lifecycle;
  "model/post-migration": typeof model_post_migration;
  "model/post-tags": typeof model_post_tags;
  "model/upload-tickets": typeof model_upload_tickets;
  "model/user-search": typeof model_user_search;
  "model/viewer-lists": typeof model_viewer_lists;
  "model/views": typeof model_views;
  "model/visibility": typeof model_visibility;
  notifications: typeof notifications;
  posts: typeof posts;
  uploads: typeof uploads;
  users: typeof users;
}>;

/**
 * A utility for referencing Convex functions in your app's public API.
 *
 * Usage:
 * ```js
 * const myFunctionReference = api.myModule.myFunction;
 * ```
 */
export declare const api: FilterApi<
  typeof fullApi,
  FunctionReference<any, "public">
>;

/**
 * A utility for referencing Convex functions in your app's internal API.
 *
 * Usage:
 * ```js
 * const myFunctionReference = internal.myModule.myFunction;
 * ```
 */
export declare const internal: FilterApi<
  typeof fullApi,
  FunctionReference<any, "internal">
>;

export declare const components: {
  rateLimiter: import("@convex-dev/rate-limiter/_generated/component.js").ComponentApi<"rateLimiter">;
};
