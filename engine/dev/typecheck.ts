import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

/** One type error, as `tsc` reports it. */
export interface TypeError {
  file: string;
  line: number;
  column: number;
  message: string;
}

/**
 * Runs `tsc --noEmit` over the functions folder (its own tsconfig.json) in a
 * child process, so a slow check never blocks serving. Starting a new check
 * stops the one still running: only the latest code matters.
 */
export function createTypechecker(appDir: string) {
  let running: ChildProcess | null = null;
  const tsc = findTsc(appDir);
  return {
    available: tsc !== null,
    run(): Promise<TypeError[] | null> {
      running?.kill();
      if (tsc === null) return Promise.resolve(null);
      const config = path.join(appDir, "tsconfig.json");
      const args = [tsc, "--noEmit", "--pretty", "false", ...(existsSync(config) ? ["-p", config] : [])];
      const child = spawn(process.execPath, args, { cwd: appDir, stdio: ["ignore", "pipe", "pipe"] });
      running = child;
      let out = "";
      child.stdout!.on("data", (d) => (out += String(d)));
      return new Promise((resolve) => {
        child.on("close", (_code, signal) => {
          if (running === child) running = null;
          resolve(signal ? null : parseTscOutput(out, appDir));
        });
      });
    },
    stop(): void {
      running?.kill();
    },
  };
}

/** `file(line,col): error TS1234: message` lines. */
export function parseTscOutput(out: string, cwd: string): TypeError[] {
  const errors: TypeError[] = [];
  for (const line of out.split("\n")) {
    const m = /^(.+?)\((\d+),(\d+)\): error (TS\d+: .*)$/.exec(line.trim());
    if (m) errors.push({ file: path.resolve(cwd, m[1]!), line: Number(m[2]), column: Number(m[3]), message: m[4]! });
  }
  return errors;
}

/** The app's own TypeScript if it has one, else the engine's. */
function findTsc(appDir: string): string | null {
  for (const base of [path.join(appDir, "package.json"), import.meta.url]) {
    try {
      return createRequire(base).resolve("typescript/bin/tsc");
    } catch {
      // try the next place
    }
  }
  return null;
}
