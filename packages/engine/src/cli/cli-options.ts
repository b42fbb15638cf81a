import { existsSync, statSync } from "node:fs";
import { parseArgs, type ParseArgsConfig } from "node:util";
import path from "node:path";
import { EngineError } from "../errors.js";

/** Options every command understands. */
export const COMMON_OPTIONS = {
  data: { type: "string" },
  functions: { type: "string" },
  port: { type: "string" },
  "site-port": { type: "string" },
  host: { type: "string" },
} as const;

/** Parses a command's arguments with node's parseArgs, rejecting unknown flags. */
export function parseCommand(argv: string[], options: NonNullable<ParseArgsConfig["options"]>): ParsedCommand {
  try {
    const parsed = parseArgs({ args: argv, options: { ...COMMON_OPTIONS, ...options }, allowPositionals: true, strict: true });
    return { values: parsed.values as ParsedCommand["values"], positionals: parsed.positionals };
  } catch (e) {
    throw new EngineError("BadArguments", (e as Error).message);
  }
}

/** Parsed flags and positionals. */
export interface ParsedCommand {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

/** A port option as a number (0 = any free port). */
export function portOption(raw: unknown, fallback: number, name: string): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new EngineError("BadArguments", `--${name} must be a port number, got ${String(raw)}.`);
  return n;
}

/** The data folder option, resolved. */
export function dataDirOption(raw: unknown): string {
  return path.resolve(typeof raw === "string" ? raw : "data");
}

/**
 * The functions folder option, resolved and checked: it must exist, and a
 * project folder passed by mistake (one holding `convex/`) gets a pointer to it.
 */
export function functionsDirOption(raw: unknown): string {
  const given = typeof raw === "string" ? raw : "convex";
  const dir = path.resolve(given);
  const flag = typeof raw === "string" ? `--functions ${given}` : "the default --functions convex";
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new EngineError("NoFunctionsFolder", `No functions folder at ${dir} (${flag}). Point --functions at the folder that holds your Convex functions and schema.ts.`);
  }
  const nested = path.join(dir, "convex");
  if (!existsSync(path.join(dir, "schema.ts")) && existsSync(nested) && statSync(nested).isDirectory()) {
    throw new EngineError("NoFunctionsFolder", `${dir} looks like a project folder, not its functions folder. Did you mean --functions ${path.relative(process.cwd(), nested) || nested}?`);
  }
  return dir;
}

const SIZE_UNITS: Record<string, number> = { "": 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** A size option: bytes, or a number with a unit (`500MB`, `1GiB`, `64KiB`). */
export function sizeOption(raw: unknown, name: string): number | undefined {
  if (raw === undefined) return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(String(raw));
  const unit = match === null ? undefined : SIZE_UNITS[match[2]!.toLowerCase()];
  const bytes = match === null || unit === undefined ? NaN : Math.floor(Number(match[1]) * unit);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new EngineError("BadArguments", `--${name} must be a size such as 1073741824, 500MB or 1GiB, got ${String(raw)}.`);
  }
  return bytes;
}
