import { EngineError } from "../errors.js";

/**
 * When the schedules of `crons.ts` (convex-interface.md §2.1) fire, all in
 * UTC: `interval` every n seconds/minutes/hours; `hourly`, `daily`, `weekly`,
 * `monthly` at a wall time; `cron` a standard 5-field expression (minute hour
 * day-of-month month day-of-week; `*`, lists, ranges, steps and English
 * names; day-of-month and day-of-week both restricted means either matches).
 * The calendar kinds are the cron expressions they stand for, so one matcher
 * serves all of them. A monthly day the month lacks (the 31st in April) is
 * skipped, as Convex documents.
 */
export type CronSchedule = { type: string } & Record<string, unknown>;

const MINUTE_MS = 60_000;
const WEEKDAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];
const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
/** A schedule that never matches within this many days is refused (e.g. "0 0 30 2 *"). */
const SEARCH_DAYS = 366 * 5;

/** The first time strictly after `afterMs` at which `schedule` fires. */
export function nextFireTime(schedule: CronSchedule, afterMs: number): number {
  if (schedule.type === "interval") return afterMs + intervalMs(schedule);
  return nextCronMatch(parseCron(cronExpression(schedule)), afterMs);
}

function intervalMs(schedule: CronSchedule): number {
  const { seconds, minutes, hours } = schedule as { seconds?: number; minutes?: number; hours?: number };
  const ms = seconds !== undefined ? seconds * 1000 : minutes !== undefined ? minutes * MINUTE_MS : (hours ?? NaN) * 3_600_000;
  if (!(ms > 0)) throw invalid(`an interval needs a positive seconds, minutes or hours: ${JSON.stringify(schedule)}`);
  return ms;
}

/** The 5-field expression a calendar schedule stands for. */
function cronExpression(schedule: CronSchedule): string {
  const s = schedule as { minuteUTC?: number; hourUTC?: number; dayOfWeek?: string; day?: number; cron?: string };
  const minute = s.minuteUTC ?? 0;
  switch (schedule.type) {
    case "hourly":
      return `${minute} * * * *`;
    case "daily":
      return `${minute} ${s.hourUTC} * * *`;
    case "weekly":
      return `${minute} ${s.hourUTC} * * ${String(s.dayOfWeek).toLowerCase().slice(0, 3)}`;
    case "monthly":
      return `${minute} ${s.hourUTC} ${s.day} * *`;
    case "cron":
      return String(s.cron);
    default:
      throw invalid(`unknown schedule type ${JSON.stringify(schedule.type)}`);
  }
}

interface CronFields {
  minutes: Set<number>;
  hours: Set<number>;
  days: Set<number>;
  months: Set<number>;
  weekdays: Set<number>;
  /** Both day fields restricted: a day matches if either does (Vixie cron). */
  eitherDay: boolean;
}

/** Parses a 5-field cron expression. */
export function parseCron(expression: string): CronFields {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5) throw invalid(`"${expression}" must have 5 fields (minute hour day month weekday)`);
  const [minute, hour, day, month, weekday] = parts as [string, string, string, string, string];
  const weekdays = parseField(weekday, 0, 7, WEEKDAYS.map((d) => d.slice(0, 3)), expression);
  if (weekdays.delete(7)) weekdays.add(0);
  return {
    minutes: parseField(minute, 0, 59, [], expression),
    hours: parseField(hour, 0, 23, [], expression),
    days: parseField(day, 1, 31, [], expression),
    months: parseField(month, 1, 12, MONTHS, expression, 1),
    weekdays,
    eitherDay: !day.startsWith("*") && !weekday.startsWith("*"),
  };
}

function parseField(field: string, min: number, max: number, names: string[], expression: string, nameBase = 0): Set<number> {
  const value = (text: string): number => {
    const named = names.indexOf(text.toLowerCase());
    const n = named !== -1 ? named + nameBase : /^\d+$/.test(text) ? Number(text) : NaN;
    if (!(n >= min && n <= max)) throw invalid(`"${text}" is out of range in "${expression}"`);
    return n;
  };
  const out = new Set<number>();
  for (const item of field.split(",")) {
    const [range, stepText] = item.split("/") as [string, string | undefined];
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw invalid(`bad step in "${expression}"`);
    let lo: number;
    let hi: number;
    if (range === "*") [lo, hi] = [min, max];
    else if (range.includes("-")) [lo, hi] = range.split("-").map(value) as [number, number];
    else [lo, hi] = [value(range), stepText === undefined ? value(range) : max];
    if (lo > hi) throw invalid(`range ${range} runs backwards in "${expression}"`);
    for (let n = lo; n <= hi; n += step) out.add(n);
  }
  return out;
}

/** The first whole UTC minute after `afterMs` that matches, skipping whole days and hours that cannot. */
function nextCronMatch(fields: CronFields, afterMs: number): number {
  const t = new Date(Math.floor(afterMs / MINUTE_MS) * MINUTE_MS + MINUTE_MS);
  const limit = afterMs + SEARCH_DAYS * 86_400_000;
  while (t.getTime() <= limit) {
    if (!fields.months.has(t.getUTCMonth() + 1) || !dayMatches(fields, t)) {
      t.setUTCHours(24, 0, 0, 0);
      continue;
    }
    if (!fields.hours.has(t.getUTCHours())) {
      t.setUTCMinutes(60, 0, 0);
      continue;
    }
    if (!fields.minutes.has(t.getUTCMinutes())) {
      t.setUTCMinutes(t.getUTCMinutes() + 1, 0, 0);
      continue;
    }
    return t.getTime();
  }
  throw invalid("the schedule never fires");
}

function dayMatches(fields: CronFields, t: Date): boolean {
  const day = fields.days.has(t.getUTCDate());
  const weekday = fields.weekdays.has(t.getUTCDay());
  return fields.eitherDay ? day || weekday : day && weekday;
}

function invalid(detail: string): EngineError {
  return new EngineError("InvalidCronSchedule", `Invalid cron schedule: ${detail}`);
}
