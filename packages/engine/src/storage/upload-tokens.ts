import Database from "better-sqlite3";
import { createHash, randomBytes } from "node:crypto";

/**
 * Upload tokens: what `generateUploadUrl` hands out. A token is 32 random
 * bytes (base64url); only its SHA-256 is stored, with its expiry, in a small
 * SQLite file of the storage folder, so a restart neither revives a used
 * token nor forgets a valid one, and a copy of the file holds no usable token.
 *
 * Single use: `consume` is one `DELETE … WHERE hash = ? AND expires_at > ?`,
 * true for exactly one caller. While an upload streams, its token is also
 * held in memory, so a second request with the same token is refused at once
 * instead of after it sent its bytes.
 */
export interface UploadTokens {
  /** A fresh token, valid for the configured lifetime from now. */
  issue(): string;
  /**
   * Holds `token` for one upload: null when it is unknown, used, expired or
   * already held by another upload in flight.
   */
  hold(token: string): HeldToken | null;
  /** Closes the token file. */
  close(): void;
}

/** A token held by one upload in flight. */
export interface HeldToken {
  /** Uses the token up; true exactly once, false if it expired or was used meanwhile. */
  consume(): boolean;
  /** Lets go of the token without using it (the upload failed). */
  release(): void;
}

/** What the token store needs. */
export interface UploadTokenDeps {
  /** The SQLite file. */
  path: string;
  /** Deployment clock (ms). */
  now: () => number;
  /** Lifetime of a token (ms); Convex's upload URLs last one hour. */
  ttlMs: number;
}

const TOKEN_BYTES = 32;
const TOKEN_FORMAT = /^[A-Za-z0-9_-]{43}$/;
/** Expired rows are deleted at most this often (ms). */
const PRUNE_INTERVAL_MS = 60_000;

/** Opens (creating) the token file. */
export function createUploadTokens(deps: UploadTokenDeps): UploadTokens {
  const db = new Database(deps.path);
  db.pragma("journal_mode = WAL");
  // A consumed token must stay consumed across a power loss, or it could be replayed.
  db.pragma("synchronous = FULL");
  db.exec("CREATE TABLE IF NOT EXISTS upload_tokens (hash TEXT PRIMARY KEY, expires_at REAL NOT NULL) WITHOUT ROWID");
  const insert = db.prepare("INSERT INTO upload_tokens (hash, expires_at) VALUES (?, ?)");
  const lookup = db.prepare("SELECT expires_at FROM upload_tokens WHERE hash = ?").pluck();
  const consume = db.prepare("DELETE FROM upload_tokens WHERE hash = ? AND expires_at > ?");
  const prune = db.prepare("DELETE FROM upload_tokens WHERE expires_at <= ?");
  const held = new Set<string>();
  let lastPrune = -Infinity;

  return {
    issue() {
      const now = deps.now();
      if (now - lastPrune > PRUNE_INTERVAL_MS) {
        prune.run(now);
        lastPrune = now;
      }
      const token = randomBytes(TOKEN_BYTES).toString("base64url");
      insert.run(hashOf(token), now + deps.ttlMs);
      return token;
    },

    hold(token) {
      if (!TOKEN_FORMAT.test(token)) return null;
      const hash = hashOf(token);
      const expiresAt = lookup.get(hash) as number | undefined;
      if (expiresAt === undefined || expiresAt <= deps.now() || held.has(hash)) return null;
      held.add(hash);
      let open = true;
      const release = () => {
        if (open) held.delete(hash);
        open = false;
      };
      return {
        consume() {
          if (!open) return false;
          const used = consume.run(hash, deps.now()).changes === 1;
          release();
          return used;
        },
        release,
      };
    },

    close() {
      db.close();
    },
  };
}

function hashOf(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}
