import { describe, expect, it } from "vitest";
import { EngineError } from "../src/errors.js";
import { DEFAULT_HEAP_GROWING_PERCENT, heapGrowingFlag } from "../src/heap-growth.js";

// The flag's effect on V8's collections is measured by bench/sync-fanout.bench.ts
// (--trace-gc), not here: a test cannot read a V8 flag back, only decide which to set.
describe("heap growth flag", () => {
  it("asks V8 for twice the live heap by default", () => {
    expect(DEFAULT_HEAP_GROWING_PERCENT).toBe(100);
    expect(heapGrowingFlag(DEFAULT_HEAP_GROWING_PERCENT, [])).toBe("--heap-growing-percent=100");
    expect(heapGrowingFlag(250, ["--expose-gc", "--max-old-space-size=4096"])).toBe("--heap-growing-percent=250");
  });

  it("leaves V8's own factor at 0", () => {
    expect(heapGrowingFlag(0, [])).toBeNull();
  });

  it("keeps a factor the process was started with, in either spelling", () => {
    expect(heapGrowingFlag(100, ["--heap-growing-percent=30"])).toBeNull();
    expect(heapGrowingFlag(100, ["--heap_growing_percent=30"])).toBeNull();
    expect(heapGrowingFlag(100, ["--heap-growing-percent", "30"])).toBeNull();
    // Another flag that merely starts alike is no choice of this one.
    expect(heapGrowingFlag(100, ["--heap-growing-percentage-unknown=1"])).toBe("--heap-growing-percent=100");
  });

  it("refuses what is not a percentage V8 could take", () => {
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 1001]) {
      let thrown: unknown;
      try {
        heapGrowingFlag(bad, []);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(EngineError);
      expect((thrown as EngineError).code).toBe("InvalidOption");
    }
  });
});
