import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { EngineError } from "../errors.js";

/** What a running engine writes into its data folder, so other commands can reach it. */
export interface RunningEngineInfo {
  pid: number;
  cloudUrl: string;
  siteUrl: string;
  adminKey: string;
}

const FILE = "engine.json";

/** The engine currently serving `dataDir`, or null when none runs. */
export function findRunningEngine(dataDir: string): RunningEngineInfo | null {
  const file = path.join(dataDir, FILE);
  if (!existsSync(file)) return null;
  try {
    const info = JSON.parse(readFileSync(file, "utf8")) as RunningEngineInfo;
    process.kill(info.pid, 0);
    return info;
  } catch {
    return null;
  }
}

/**
 * Claims the data folder for this process. Two engines on one SQLite file
 * would break the single-writer guarantee every transaction relies on.
 */
export function claimDataFolder(dataDir: string, info: Omit<RunningEngineInfo, "pid">): () => void {
  const other = findRunningEngine(dataDir);
  if (other !== null && other.pid !== process.pid) {
    throw new EngineError(
      "DataFolderInUse",
      `Another engine (pid ${other.pid}, ${other.cloudUrl}) is using the data folder ${dataDir}. Stop it first.`,
    );
  }
  const file = path.join(dataDir, FILE);
  writeFileSync(file, JSON.stringify({ pid: process.pid, ...info }, null, 2), { mode: 0o600 });
  return () => rmSync(file, { force: true });
}

/** Calls the admin API of a running engine. */
export async function adminRequest(info: RunningEngineInfo, method: string, route: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${info.cloudUrl}/api/admin/${route}`, {
    method,
    headers: { Authorization: `Convex ${info.adminKey}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new EngineError("AdminRequestFailed", `The engine answered ${response.status}: ${text}`);
  return JSON.parse(text);
}
