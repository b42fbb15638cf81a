/**
 * Every bound the app enforces, in one place so the docs, the code and the
 * tests agree. Lengths count Unicode code points (what a person calls
 * characters), not UTF-16 units, so an emoji counts once.
 */

/** Longest post caption, as on Instagram. */
export const CAPTION_MAX = 2_200;
/** Longest comment. */
export const COMMENT_MAX = 2_200;
/** Longest profile bio. */
export const BIO_MAX = 150;
/** Longest full name. */
export const FULLNAME_MAX = 64;
/** Longest username; usernames use only `[a-z0-9._]`. */
export const USERNAME_MAX = 30;
/** The characters a username may contain. */
export const USERNAME_PATTERN = /^[a-z0-9._]+$/;

/** Largest accepted image upload, in bytes (10 MiB). */
export const MAX_IMAGE_BYTES = 10 * 1024 * 1024;
/** A post's file must have an image Content-Type (`image/...`). */
export const IMAGE_TYPE_PATTERN = /^image\/[a-z0-9.+-]+$/;
/**
 * Image types refused all the same: SVG can carry script, and storage URLs
 * are served from the deployment's origin.
 */
export const REFUSED_IMAGE_TYPES: ReadonlySet<string> = new Set(["image/svg+xml"]);
/**
 * How long an upload URL is good for, and how long an uploaded file may wait
 * to be attached to a post before the orphan sweep may delete it. Matches the
 * one-hour lifetime of Convex's upload URLs.
 */
export const UPLOAD_WINDOW_MS = 60 * 60 * 1000;
/**
 * Largest photo, in pixels, that processing decodes (a 12 MP phone photo is
 * far below; decoding costs about 4 bytes a pixel of memory).
 */
export const MAX_IMAGE_PIXELS = 40_000_000;
/** Longest side of a post's display variant (a feed at full phone width). */
export const DISPLAY_MAX_SIDE = 1080;
/** Longest side of a post's thumbnail (profile grids, notifications). */
export const THUMBNAIL_MAX_SIDE = 320;
/** Longest side of the image a placeholder is computed from (ThumbHash allows at most 100). */
export const PLACEHOLDER_SOURCE_SIDE = 100;
/** Posts per batch of the image migration (each may schedule one processing action). */
export const MIGRATION_BATCH_SIZE = 64;

/** Open (unused, unexpired) upload URLs one user may hold at once. */
export const MAX_OPEN_UPLOADS = 10;

/** Posts returned by the common no-argument `getFeedPosts` (newest first). */
export const FEED_LIMIT = 50;
/** Posts returned by `getPostsByUser` (newest first). */
export const USER_POSTS_LIMIT = 100;
/** Comments returned by `getComments`: the newest ones, shown oldest first. */
export const COMMENTS_LIMIT = 100;
/** Notifications returned by `getNotifications` (newest first). */
export const NOTIFICATIONS_LIMIT = 50;
/** Bookmarked posts returned by `getBookmarkedPosts` (newest bookmark first). */
export const BOOKMARKS_LIMIT = 50;
/** `getUnreadCount` stops counting here; front ends show "99+". */
export const UNREAD_COUNT_CAP = 100;
/** Default and largest `limit` of `searchUsers`. */
export const SEARCH_DEFAULT_LIMIT = 10;
export const SEARCH_MAX_LIMIT = 50;
/** Longest search text of `searchUsers` and `searchPosts`. */
export const SEARCH_QUERY_MAX = 100;
/**
 * Search hits `searchUsers` reads to fill its `limit` (at most 50) after
 * leaving out accounts the viewer may not see (Convex reads at most 1,024
 * per search).
 */
export const SEARCH_SCAN_MAX = 100;

/** Distinct hashtags one caption or comment may carry (Instagram's 30). */
export const HASHTAGS_MAX = 30;
/** Longest hashtag, without its "#". */
export const HASHTAG_MAX_LENGTH = 100;
/** Distinct @mentions one caption or comment may carry (Instagram's 20). */
export const MENTIONS_MAX = 20;

/**
 * Rows of one of a viewer's short lists (the users they blocked, the users who
 * blocked them, their bookmarks) a list query reads at once to answer every
 * item of its page from memory (`model/viewer-lists.ts`); a longer list is
 * checked with one point read per item instead.
 */
export const VIEWER_LIST_BOUND = 64;

/** Largest page a paginated query serves; larger requests are clamped. */
export const MAX_PAGE_SIZE = 100;

/**
 * Rows one background batch touches. Large cascades (a popular post, a whole
 * account, a feed fan-out) run as a chain of such batches through the
 * scheduler, so no single transaction grows with the data.
 */
export const BATCH_SIZE = 128;
