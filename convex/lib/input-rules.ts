import { appError } from "./errors";
import {
  BIO_MAX,
  CAPTION_MAX,
  COMMENT_MAX,
  FULLNAME_MAX,
  USERNAME_MAX,
  USERNAME_PATTERN,
} from "./limits";

/** Length in Unicode code points, so an emoji counts as one character. */
function charCount(text: string): number {
  let n = 0;
  for (const _ of text) n += 1;
  return n;
}

function checkMax(field: string, text: string, max: number): void {
  const length = charCount(text);
  if (length > max) {
    throw appError(
      "INVALID_ARGUMENT",
      `${field} is too long: ${length} characters, at most ${max} allowed.`,
    );
  }
}

/** A caption: at most CAPTION_MAX characters; blank means "no caption". */
export function normalizeCaption(caption: string | undefined): string | undefined {
  if (caption === undefined) return undefined;
  checkMax("Caption", caption, CAPTION_MAX);
  return caption.trim() === "" ? undefined : caption;
}

/** A comment: not blank, at most COMMENT_MAX characters. */
export function checkComment(content: string): string {
  if (content.trim() === "") throw appError("INVALID_ARGUMENT", "A comment cannot be empty.");
  checkMax("Comment", content, COMMENT_MAX);
  return content;
}

/** A full name: not blank, at most FULLNAME_MAX characters; trimmed. */
export function checkFullname(fullname: string): string {
  const trimmed = fullname.trim();
  if (trimmed === "") throw appError("INVALID_ARGUMENT", "Full name cannot be empty.");
  checkMax("Full name", trimmed, FULLNAME_MAX);
  return trimmed;
}

/** A bio: at most BIO_MAX characters; blank clears it. */
export function normalizeBio(bio: string): string | undefined {
  checkMax("Bio", bio, BIO_MAX);
  return bio.trim() === "" ? undefined : bio;
}

/** A username chosen in the app: 1 to USERNAME_MAX of `[a-z0-9._]`. */
export function checkUsername(username: string): string {
  if (username === "") throw appError("INVALID_ARGUMENT", "Username cannot be empty.");
  checkMax("Username", username, USERNAME_MAX);
  if (!USERNAME_PATTERN.test(username)) {
    throw appError(
      "INVALID_ARGUMENT",
      "Username may only contain lowercase letters, digits, dots and underscores.",
    );
  }
  return username;
}

/**
 * Turns free text (a Clerk username, an email's local part, a name) into a
 * valid username candidate, or "" when nothing usable remains.
 */
export function usernameFrom(text: string): string {
  const cleaned = text
    .normalize("NFKD")
    .toLowerCase()
    .replace(/[^a-z0-9._]/g, "");
  return cleaned.slice(0, USERNAME_MAX);
}
