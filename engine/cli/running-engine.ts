import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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

/** This process's claim on a data folder. */
export interface DataFolderClaim {
  /** Records where the engine listens, once it does. */
  publish(info: Omit<RunningEngineInfo, "pid">): void;
  /** Gives the folder up. */
  release(): void;
}

/**
 * Claims the data folder for this process, before anything opens its
 * database. Two engines on one SQLite file would break the single-writer
 * guarantee every transaction relies on. The claim file is created with
 * O_EXCL, so two engines starting at the same moment cannot both win.
 */
export function claimDataFolder(dataDir: string): DataFolderClaim {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, FILE);
  const other = findRunningEngine(dataDir);
  if (other !== null && other.pid !== process.pid) {
    throw new EngineError(
      "DataFolderInUse",
      `Another engine (pid ${other.pid}, ${other.cloudUrl || "starting"}) is using the data folder ${dataDir}. Stop it first.`,
    );
  }
  // A claim left by a process that no longer exists is stale.
  rmSync(file, { force: true });
  const write = (info: Omit<RunningEngineInfo, "pid">, flag: string) =>
    writeFileSync(file, JSON.stringify({ pid: process.pid, ...info }, null, 2), { mode: 0o600, flag });
  try {
    write({ cloudUrl: "", siteUrl: "", adminKey: "" }, "wx");
  } catch {
    throw new EngineError("DataFolderInUse", `Another engine is starting on the data folder ${dataDir}. Stop it first.`);
  }
  return {
    publish: (info) => write(info, "w"),
    release: () => rmSync(file, { force: true }),
  };
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
