import { describe, expect, test } from "vitest";
import { Watchdog } from "../src/runtime/watchdog";

describe("watchdog (time limit of queries and mutations)", () => {
  test("work that overruns is stopped with the given error; work that finishes keeps its result", async () => {
    const watchdog = new Watchdog(30, 5);
    let stopped = 0;
    const started = performance.now();
    const hung = watchdog.guard(new Promise<never>(() => {}), () => {
      stopped += 1;
      return new Error("ran too long");
    });
    const quick = watchdog.guard(Promise.resolve("done"), () => new Error("never"));
    const failing = watchdog.guard(Promise.reject(new Error("own failure")), () => new Error("never"));
    await expect(quick).resolves.toBe("done");
    await expect(failing).rejects.toThrow("own failure");
    await expect(hung).rejects.toThrow("ran too long");
    expect(stopped).toBe(1);
    // Not before its limit.
    expect(performance.now() - started).toBeGreaterThanOrEqual(30);
  });
});
