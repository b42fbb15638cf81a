import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
    // convex-test loads the app's modules through import.meta.glob, which
    // only works when vite transforms it instead of node importing it.
    server: { deps: { inline: ["convex-test"] } },
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
