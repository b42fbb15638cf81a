import { expect, test } from "vitest";
import { createCallLog } from "../src/http/call-log";
import type { CallRecord } from "../src/runtime/runtime-types";

const record = (n: number): CallRecord => ({ path: `m:f${n}`, kind: "query", origin: "client", status: "success", startedAt: n, durationMs: 1, logLines: [], caller: null });

test("the call log numbers calls as they come and lists the last `capacity` after a seq, oldest first", () => {
  const log = createCallLog(3);
  expect(log.since(0)).toEqual([]);
  for (let n = 1; n <= 5; n++) log.add(record(n));
  expect(log.latestSeq).toBe(5);
  expect(log.since(0)).toEqual([3, 4, 5].map((n) => ({ ...record(n), seq: n })));
  expect(log.since(4)).toEqual([{ ...record(5), seq: 5 }]);
  expect(log.since(5)).toEqual([]);
  // What it lists is a numbered copy: reading never changes what was added.
  const added = record(6);
  log.add(added);
  expect(log.since(5)).toEqual([{ ...record(6), seq: 6 }]);
  expect("seq" in added).toBe(false);
});
