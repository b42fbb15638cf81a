import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestEngine, type TestEngine } from "./support/test-engine";

/**
 * Query workers yield the CPU to the threads that serve sockets and write: on Linux each
 * lowers its own scheduling priority (nice +5) when it starts. Read from /proc, where every
 * thread of this process (the engine runs in it) lists its nice value.
 */

const APP = path.resolve(__dirname, "fixtures/basic/convex");
const list = makeFunctionReference<"query">("messages:list");
const send = makeFunctionReference<"mutation">("messages:send");

/** Nice value of every thread of this process. */
function threadNiceValues(): number[] {
  return readdirSync("/proc/self/task").map((tid) => {
    // Fields after the command's closing parenthesis; nice is the 19th field of the whole line.
    const fields = readFileSync(`/proc/self/task/${tid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return Number(fields[16]);
  });
}

describe.runIf(process.platform === "linux")("query worker priority", () => {
  let running: TestEngine;
  beforeAll(async () => {
    running = await startTestEngine({ appDir: APP, queryWorkers: 2 });
  });
  afterAll(async () => running?.close());

  test("query workers run at nice +5 while this thread and the writer keep their priority", async () => {
    const before = threadNiceValues().filter((n) => n === 5).length;
    const client = new ConvexHttpClient(running.engine.cloudUrl, { logger: false });
    await client.mutation(send, { author: "a", body: "wakes the writer" });
    // Two at once: the pool starts a second worker when the first is busy.
    await Promise.all([client.query(list, {}), client.query(makeFunctionReference<"query">("messages:byAuthor"), { author: "a" })]);
    const after = threadNiceValues();
    expect(after.filter((n) => n === 5).length - before).toBeGreaterThanOrEqual(1);
    expect(after.filter((n) => n === 5).length - before).toBeLessThanOrEqual(2);
    // This thread (the socket thread) is unchanged.
    expect(Number(readFileSync("/proc/thread-self/stat", "utf8").split(") ")[1]!.split(" ")[16])).toBe(0);
  });
});
