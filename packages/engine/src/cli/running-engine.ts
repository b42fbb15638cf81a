import { renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ENGINE_INFO_FILE, isDataFolderLocked, readEngineInfo, type RunningEngineInfo } from "../data-folder.js";
import { EngineError } from "../errors.js";

export type { RunningEngineInfo } from "../data-folder.js";

const FILE = ENGINE_INFO_FILE;

/**
 * The engine currently serving `dataDir`, or null when none runs. Whether
 * one runs is the data folder's lock (`data-folder.ts`), which the kernel
 * drops when its holder dies; `engine.json` only says where it listens, and
 * a copy a crashed engine left behind is never mistaken for a live one.
 */
export function findRunningEngine(dataDir: string): RunningEngineInfo | null {
  if (!isDataFolderLocked(dataDir)) return null;
  const info = readEngineInfo(dataDir);
  if (info === null) {
    throw new EngineError(
      "DataFolderBusy",
      `The data folder ${dataDir} is in use (an engine is starting, or another command is working on it). Try again in a moment.`,
    );
  }
  return info;
}

/**
 * Publishes where this engine listens (`engine.json`, 0600: it holds the
 * admin key). Written to a temporary name and renamed, so a reader never sees
 * half a file. Returns a function that removes it again.
 */
export function publishRunningEngine(dataDir: string, info: Omit<RunningEngineInfo, "pid">): () => void {
  const file = path.join(dataDir, FILE);
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify({ pid: process.pid, ...info }, null, 2), { mode: 0o600 });
  renameSync(temp, file);
  return () => rmSync(file, { force: true });
}

/** Removes an `engine.json` a crashed engine left; call only while holding the folder's lock. */
export function removeStaleInfo(dataDir: string): void {
  rmSync(path.join(dataDir, FILE), { force: true });
}

/** Calls the admin API of a running engine. */
export async function adminRequest(info: RunningEngineInfo, method: string, route: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${info.cloudUrl}/api/admin/${route}`, {
    method,
    headers: { Authorization: `Convex ${info.adminKey}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw refusal("AdminRequestFailed", response.status, text);
  return JSON.parse(text);
}

/**
 * An error answer of the engine as readable text: its `message` (the engine
 * answers `{code, message}`), not the raw JSON, with the code when it helps.
 */
export function refusal(code: string, status: number, body: string): EngineError {
  let message = body.trim();
  try {
    const parsed = JSON.parse(body) as { code?: unknown; message?: unknown };
    if (typeof parsed.message === "string") message = parsed.message;
  } catch {
    // Not JSON (a proxy's page): shown as it came.
  }
  return new EngineError(code, message === "" ? `The engine answered HTTP ${status}.` : message);
}
