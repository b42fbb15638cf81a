import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { nextFireTime, parseCron } from "../src/scheduler/cron-schedule";
import { startTestEngine } from "./support/test-engine";
import { drainScheduler, eventually } from "./scheduler-support/scheduler-helpers";

/** `crons.ts`: when each schedule kind fires, and crons running on the engine. */

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

describe("cron schedules (UTC)", () => {
  test.each([
    [{ type: "interval", seconds: 30 }, "2026-03-01T10:20:05.500Z", "2026-03-01T10:20:35.500Z"],
    [{ type: "interval", hours: 2 }, "2026-03-01T10:20:00.000Z", "2026-03-01T12:20:00.000Z"],
    [{ type: "hourly", minuteUTC: 15 }, "2026-03-01T10:20:00.000Z", "2026-03-01T11:15:00.000Z"],
    [{ type: "hourly" }, "2026-03-01T10:00:00.000Z", "2026-03-01T11:00:00.000Z"],
    [{ type: "daily", hourUTC: 9, minuteUTC: 30 }, "2026-03-01T09:30:00.000Z", "2026-03-02T09:30:00.000Z"],
    [{ type: "weekly", dayOfWeek: "monday", hourUTC: 8 }, "2026-03-01T12:00:00.000Z", "2026-03-02T08:00:00.000Z"],
    [{ type: "monthly", day: 31, hourUTC: 0 }, "2026-04-01T00:00:00.000Z", "2026-05-31T00:00:00.000Z"],
    [{ type: "cron", cron: "*/15 9-17 * * mon-fri" }, "2026-02-28T18:00:00.000Z", "2026-03-02T09:00:00.000Z"],
    [{ type: "cron", cron: "0 0 13 * 5" }, "2026-03-01T00:00:00.000Z", "2026-03-06T00:00:00.000Z"],
    [{ type: "cron", cron: "59 23 31 12 *" }, "2026-03-01T00:00:00.000Z", "2026-12-31T23:59:00.000Z"],
    [{ type: "cron", cron: "0 12 * * 7" }, "2026-03-01T12:00:00.000Z", "2026-03-08T12:00:00.000Z"],
  ])("%j after %s fires at %s", (schedule, after, expected) => {
    expect(iso(nextFireTime(schedule, at(after)))).toBe(expected);
  });

  test.each(["* * * *", "60 * * * *", "* 24 * * *", "5-1 * * * *", "*/0 * * * *", "0 0 * foo *"])("%s is refused", (expression) => {
    expect(() => parseCron(expression)).toThrow(/Invalid cron schedule/);
  });

  test("a schedule that never fires is refused rather than searched forever", () => {
    expect(() => nextFireTime({ type: "cron", cron: "0 0 30 2 *" }, at("2026-01-01T00:00:00Z"))).toThrow(/never fires/);
  });
});

describe("crons on the engine", () => {
  const APP = path.join(__dirname, "fixtures/crons/convex");
  const fn = <K extends "query" | "mutation">(name: string) => makeFunctionReference<K>(name);
  const dataDir = mkdtempSync(path.join(tmpdir(), "crons-"));
  type Run = { label: string; at: number };
  type Job = { name: string; scheduledTime: number; state: { kind: string } };
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  test("an interval cron runs by itself as a scheduled job; a drain a day ahead fires a daily cron once; a restart does not repeat it", async () => {
    const first = await startTestEngine({ appDir: APP, dataDir });
    const client = new ConvexHttpClient(first.engine.cloudUrl, { logger: false });
    const runs = async (label: string) => ((await client.query(fn<"query">("jobs:runs"), {})) as Run[]).filter((r) => r.label === label);
    const jobs = async (name: string) => ((await client.query(fn<"query">("jobs:jobs"), {})) as Job[]).filter((j) => j.name === name);

    await eventually(async () => ((await runs("tick")).length > 0 ? true : undefined), "the interval cron");
    expect((await jobs("jobs.js:record"))[0]?.state.kind).toBe("success");

    await client.mutation(fn<"mutation">("jobs:later"), { ms: 25 * 60 * 60 * 1000 });
    await drainScheduler(first.engine);
    await eventually(async () => ((await runs("nightly")).length > 0 ? true : undefined), "the daily cron");
    // A day of missed seconds and one missed night each fire once, not once per period.
    expect(await runs("nightly")).toHaveLength(1);
    expect((await runs("tick")).length).toBeLessThan(10);
    await first.close();

    const second = await startTestEngine({ appDir: APP, dataDir });
    const after = new ConvexHttpClient(second.engine.cloudUrl, { logger: false });
    const nightly = ((await after.query(fn<"query">("jobs:jobs"), {})) as Job[]).filter((j) => j.name === "jobs.js:recordAction");
    expect(nightly).toHaveLength(1);
    await second.close();
  });
});
