/** Short human renderings of sizes, times and durations. */

const UNITS = ["B", "KB", "MB", "GB", "TB"];

/** `1234567` → `"1.2 MB"` (powers of 1024, as file managers show them). */
export function formatSize(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

/** A millisecond timestamp as local `YYYY-MM-DD HH:MM:SS`. */
export function formatTimestamp(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A millisecond timestamp as local `HH:MM:SS.mmm`, for call logs. */
export function formatClock(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** How long ago (or ahead) `ms` is: `"just now"`, `"5 min ago"`, `"in 2 h"`. */
export function formatRelative(ms: number, now: number = Date.now()): string {
  const delta = ms - now;
  const abs = Math.abs(delta);
  if (abs < 10_000) return "just now";
  let amount: string;
  if (abs < 60_000) amount = `${Math.floor(abs / 1000)} s`;
  else if (abs < 3_600_000) amount = `${Math.floor(abs / 60_000)} min`;
  else if (abs < 86_400_000) amount = `${Math.floor(abs / 3_600_000)} h`;
  else amount = `${Math.floor(abs / 86_400_000)} d`;
  return delta < 0 ? `${amount} ago` : `in ${amount}`;
}

/** A duration in ms: `"12 ms"`, `"1.35 s"`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** Groups digits: `12345` → `"12,345"`. */
export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

/**
 * A function's path as the app's code names it (`uploads:expireTicket`): the
 * engine records scheduled jobs the way Convex stores them
 * (`uploads.js:expireTicket`), calls the way clients send them.
 */
export function functionName(path: string): string {
  return path.replace(/\.js:/, ":").replace(/\.js$/, "");
}
