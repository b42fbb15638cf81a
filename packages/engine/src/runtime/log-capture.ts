import { formatWithOptions } from "node:util";

/** Log levels as Convex prints them in front of each line. */
export type LogLevel = "LOG" | "INFO" | "WARN" | "ERROR" | "DEBUG";

/** Where a running function's console output goes. */
export interface LogSink {
  (level: LogLevel, line: string): void;
}

const METHODS: [keyof Console, LogLevel][] = [
  ["log", "LOG"],
  ["info", "INFO"],
  ["warn", "WARN"],
  ["error", "ERROR"],
  ["debug", "DEBUG"],
  ["trace", "LOG"],
];

let installed = false;

/**
 * Routes `console.*` calls made inside a function execution to that
 * execution's sink, and everything else to the real console. Installed once per
 * process because `console` is shared by every engine in it.
 */
export function installConsoleCapture(currentSink: () => LogSink | undefined): void {
  if (installed) return;
  installed = true;
  for (const [method, level] of METHODS) {
    const original = (console[method] as (...args: unknown[]) => void).bind(console);
    (console as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      const sink = currentSink();
      if (sink === undefined) return original(...args);
      sink(level, formatLogArgs(args));
    };
  }
}

/** Formats console arguments the way Node does, without colours, bounded in depth. */
export function formatLogArgs(args: unknown[]): string {
  return formatWithOptions({ colors: false, depth: 4, breakLength: Infinity }, ...args);
}
