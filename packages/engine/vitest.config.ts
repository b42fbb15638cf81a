import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

// The engine's own suites (`npm test` in this folder). The repository's root config runs
// them too, together with the app's, for the one summary line CI reads.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
    // Files in parallel, one per core and at least two: a file spends most of its time in
    // the engine's threads, child processes and sockets, not in its test worker.
    maxWorkers: Math.max(2, availableParallelism()),
    // Guards against hangs, not speed (the same as the repository's root config).
    testTimeout: 60_000,
    hookTimeout: 90_000,
  },
});
