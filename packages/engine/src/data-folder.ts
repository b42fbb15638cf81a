import Database from "better-sqlite3";
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { EngineError } from "./errors.js";

/**
 * The data folder's lock and file modes.
 *
 * Lock: one process at a time may open a data folder (two writers on one
 * SQLite file would break the single-writer guarantee every transaction
 * relies on). The lock is SQLite's own exclusive lock on `engine.lock`,
 * i.e. an fcntl lock the kernel drops when the holder dies, however it dies:
 * a SIGKILLed engine leaves nothing that blocks the next start, and there is
 * no file to remove and re-create (no pid to check, none to be reused).
 *
 * Modes: the folder holds the admin key, env vars (`CLERK_WEBHOOK_SECRET`)
 * and the dev issuer's signing key, so it is 0700 and its databases 0600.
 */

/** A held lock on a data folder. */
export interface DataFolderLock {
  /** Gives the folder up (idempotent). */
  release(): void;
}

/** The lock file; its contents do not matter, only SQLite's lock on it. */
export const LOCK_FILE = "engine.lock";

/** Where a running engine says where it listens (written by the CLI once it is ready). */
export const ENGINE_INFO_FILE = "engine.json";

/** What `engine.json` holds. */
export interface RunningEngineInfo {
  pid: number;
  cloudUrl: string;
  siteUrl: string;
  adminKey: string;
}

/** Files that hold secrets and must be readable by their owner only. */
const PRIVATE_FILES = ["db.sqlite3", "db.sqlite3-wal", "db.sqlite3-shm", "dev-auth-key.json", ENGINE_INFO_FILE, LOCK_FILE];

/**
 * How long to wait for the lock before refusing: long enough to ride over
 * another command's momentary probe (`isDataFolderLocked`), short enough
 * that a second engine is refused at once.
 */
const PROBE_GRACE_MS = 500;

/**
 * Takes the data folder's lock, or throws `DataFolderInUse` naming the holder
 * (from `engine.json` when it has published itself).
 */
export function lockDataFolder(dataDir: string): DataFolderLock {
  const db = tryLock(dataDir, PROBE_GRACE_MS);
  if (db === null) {
    const info = readEngineInfo(dataDir);
    const holder = info === null ? "Another engine (or command)" : `Another engine (pid ${info.pid}, ${info.cloudUrl})`;
    throw new EngineError("DataFolderInUse", `${holder} is using the data folder ${dataDir}. Stop it first, or use another --data folder.`);
  }
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      // Closing the connection ends the transaction and drops the lock.
      db.close();
    },
  };
}

/**
 * True while some process (this one included) holds the lock. A probe takes
 * the lock for an instant when it is free; `lockDataFolder` waits out such
 * probes.
 */
export function isDataFolderLocked(dataDir: string): boolean {
  if (!existsSync(path.join(dataDir, LOCK_FILE))) return false;
  const db = tryLock(dataDir, 0);
  if (db === null) return true;
  db.close();
  return false;
}

/** The published `engine.json`, or null when there is none (or it is unreadable). */
export function readEngineInfo(dataDir: string): RunningEngineInfo | null {
  const file = path.join(dataDir, ENGINE_INFO_FILE);
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as RunningEngineInfo;
  } catch {
    return null;
  }
}

function tryLock(dataDir: string, waitMs: number): Database.Database | null {
  const file = path.join(dataDir, LOCK_FILE);
  createPrivateFile(file);
  const db = new Database(file, { timeout: waitMs });
  try {
    // No journal file: nothing is ever written to this database.
    db.pragma("journal_mode = MEMORY");
    // EXCLUSIVE locking mode keeps the lock after the first write transaction
    // begins; BEGIN EXCLUSIVE takes it now and the open transaction holds it
    // until the connection closes or the process ends.
    db.pragma("locking_mode = EXCLUSIVE");
    db.exec("BEGIN EXCLUSIVE");
    return db;
  } catch (e) {
    db.close();
    if ((e as { code?: string }).code === "SQLITE_BUSY") return null;
    throw e;
  }
}

/** Where `prepareDataFolder` reports what it changed. */
export interface DataFolderWarnings {
  warn(message: string): void;
}

/**
 * Creates the data folder (0700) or tightens an existing one that others
 * can read, and makes the files that hold secrets 0600. The database file is
 * created here, 0600, before SQLite opens it: SQLite gives the `-wal` and
 * `-shm` files it creates the database file's mode.
 */
export function prepareDataFolder(dataDir: string, out: DataFolderWarnings): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const folder = statSync(dataDir);
  if ((folder.mode & 0o077) !== 0) {
    if (typeof process.getuid === "function" && folder.uid !== process.getuid()) {
      throw new EngineError(
        "DataFolderNotPrivate",
        `The data folder ${dataDir} is readable by other users and belongs to someone else; it holds the admin key and ` +
          "deployment secrets. Use a folder of your own (chmod 700).",
      );
    }
    chmodSync(dataDir, 0o700);
    out.warn(
      `The data folder ${dataDir} was readable by other users (mode ${octal(folder.mode)}); it holds the admin key and ` +
        "deployment secrets, so it is now 0700.",
    );
  }
  createPrivateFile(path.join(dataDir, "db.sqlite3"));
  for (const name of PRIVATE_FILES) {
    const file = path.join(dataDir, name);
    if (!existsSync(file)) continue;
    const mode = statSync(file).mode;
    if ((mode & 0o077) !== 0) chmodSync(file, 0o600);
  }
}

/** Creates an empty file readable by its owner only, unless it exists. */
function createPrivateFile(file: string): void {
  try {
    closeSync(openSync(file, "wx", 0o600));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
}

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8)}`;
}
