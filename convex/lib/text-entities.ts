import { appError } from "./errors";
import { HASHTAG_MAX_LENGTH, HASHTAGS_MAX, MENTIONS_MAX, USERNAME_MAX } from "./limits";

/**
 * The #hashtags and @mentions of a caption or comment. Written by hand: the
 * rules are ours (which characters a tag has, what counts as the start of
 * one), and two regular expressions state them; no library decides them
 * the way this app needs.
 *
 * - A hashtag is "#" followed by Unicode letters, marks, digits and "_",
 *   with at least one letter ("#123" is a number, not a tag), not glued to a
 *   preceding word ("C#", "a#b" and "&#39;" are not tags). Tags compare
 *   case-insensitively, so they are kept NFC-normalized and lowercased.
 * - A mention is "@" followed by username characters (`[a-z0-9._]`, any
 *   case), not glued to a preceding word (so "ada@example.com" mentions
 *   nobody). A sentence ending right after a name ("thanks @ada.") also
 *   offers the name without its trailing dots.
 */

const HASHTAG = /(?<![\p{L}\p{M}\p{N}_&#])#([\p{L}\p{M}\p{N}_]+)/gu;
const HAS_LETTER = /\p{L}/u;
const MENTION = /(?<![\p{L}\p{M}\p{N}_.@])@([A-Za-z0-9._]+)/gu;

/** The distinct hashtags of `text`, lowercased, in order of first use. */
export function hashtagsIn(text: string): string[] {
  const tags = new Set<string>();
  for (const match of text.normalize("NFC").matchAll(HASHTAG)) {
    const tag = match[1]!.toLowerCase();
    if (HAS_LETTER.test(tag)) tags.add(tag);
  }
  return [...tags];
}

/**
 * The distinct usernames `text` mentions, lowercased, each with its
 * alternatives best first (as typed, then without trailing dots).
 */
export function mentionsIn(text: string): string[][] {
  const seen = new Set<string>();
  const mentions: string[][] = [];
  for (const match of text.matchAll(MENTION)) {
    const typed = match[1]!.toLowerCase();
    if (seen.has(typed)) continue;
    seen.add(typed);
    const options = [typed, typed.replace(/\.+$/, "")].filter(
      (name, i, all) => name !== "" && [...name].length <= USERNAME_MAX && all.indexOf(name) === i,
    );
    if (options.length > 0) mentions.push(options);
  }
  return mentions;
}

/** The hashtags and mentions of a caption or comment, within the limits. */
export type TextEntities = { hashtags: string[]; mentions: string[][] };

/**
 * Parses `text` (`what` names it in errors) and refuses more than
 * HASHTAGS_MAX distinct tags, a tag longer than HASHTAG_MAX_LENGTH, or more
 * than MENTIONS_MAX distinct mentions (INVALID_ARGUMENT).
 */
export function checkEntities(what: string, text: string | undefined): TextEntities {
  if (text === undefined) return { hashtags: [], mentions: [] };
  const hashtags = hashtagsIn(text);
  if (hashtags.length > HASHTAGS_MAX) {
    throw appError("INVALID_ARGUMENT", `${what} has ${hashtags.length} hashtags; at most ${HASHTAGS_MAX} are allowed.`);
  }
  const long = hashtags.find((tag) => [...tag].length > HASHTAG_MAX_LENGTH);
  if (long !== undefined) {
    throw appError("INVALID_ARGUMENT", `A hashtag may have at most ${HASHTAG_MAX_LENGTH} characters.`);
  }
  const mentions = mentionsIn(text);
  if (mentions.length > MENTIONS_MAX) {
    throw appError("INVALID_ARGUMENT", `${what} mentions ${mentions.length} people; at most ${MENTIONS_MAX} are allowed.`);
  }
  return { hashtags, mentions };
}

/** A tag as `getPostsByHashtag` takes it: a leading "#" and case ignored. */
export function normalizeTag(tag: string): string {
  return tag.trim().replace(/^#/, "").normalize("NFC").toLowerCase();
}
