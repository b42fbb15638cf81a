import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import { bundleApp } from "../src/runtime/app-bundler";
import { eventually } from "./scheduler-support/scheduler-helpers";
import { startTestEngine } from "./support/test-engine";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const PROBE = fileURLToPath(new URL("./fixtures/probe-component/convex.config.js", import.meta.url));

/**
 * What the engine does not run in the component model is refused when the
 * app loads, with a message that names the feature and the file; nothing is
 * half-loaded.
 */
describe("loading components", () => {
  const projects: string[] = [];
  afterAll(() => {
    for (const p of projects) rmSync(p, { recursive: true, force: true });
  });

  /** A project folder with `node_modules` and the given files (paths relative to it). */
  const project = (files: Record<string, string>): string => {
    const dir = mkdtempSync(path.join(tmpdir(), "components-load-"));
    projects.push(dir);
    symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      writeFileSync(path.join(dir, file), text);
    }
    return path.join(dir, "convex");
  };
  const app = (config: string, extra: Record<string, string> = {}) =>
    project({
      "convex/convex.config.ts": `import { defineApp, defineComponent } from "convex/server";\nimport { v } from "convex/values";\n${config}`,
      "convex/hello.ts": `import { query } from "./_generated/server";\nexport const hi = query({ args: {}, handler: async () => "hi" });\n`,
      "convex/_generated/server.js": `export { queryGeneric as query } from "convex/server";\n`,
      ...extra,
    });
  /** A local component folder `tiny/` next to `convex/`. */
  const tiny = (files: Record<string, string> = {}) => ({
    "tiny/convex.config.js": `import { defineComponent } from "convex/server";\nexport default defineComponent("tiny");\n`,
    "tiny/lib.js": `import { queryGeneric } from "convex/server";\nexport const ping = queryGeneric({ args: {}, handler: async () => "pong" });\n`,
    ...files,
  });

  test("an app with a local component loads, and codegen names it by its folder", async () => {
    const dir = app(`import tiny from "../tiny/convex.config.js";\nconst app = defineApp();\napp.use(tiny);\nexport default app;\n`, tiny());
    const bundle = await bundleApp(dir);
    expect(bundle.components?.tree.instances.map((i) => i.path)).toEqual(["tiny"]);
    expect(bundle.components?.tree.rootImports).toEqual([{ name: "tiny", importPath: "../../tiny" }]);
  });

  test.each([
    [
      "HTTP routes of components (httpPrefix)",
      `import tiny from "../tiny/convex.config.js";\nconst app = defineApp();\napp.use(tiny, { httpPrefix: "/tiny" });\nexport default app;\n`,
      /HTTP routes of components \(`httpPrefix` in .*convex\.config\.ts\) are not supported/,
    ],
    [
      "a component name that is not an identifier",
      `import tiny from "../tiny/convex.config.js";\nconst app = defineApp();\napp.use(tiny, { name: "not-an-identifier" });\nexport default app;\n`,
      /component name "not-an-identifier" .* must start with a letter and contain only letters, digits and underscores/,
    ],
    [
      "two components installed under one name",
      `import tiny from "../tiny/convex.config.js";\nconst app = defineApp();\napp.use(tiny);\napp.use(tiny);\nexport default app;\n`,
      /two components are installed as "tiny"/,
    ],
    [
      "an app config that exports defineComponent",
      `export default defineComponent("oops");\n`,
      /is the app's config and must export defineApp\(\)/,
    ],
  ])("refuses %s", async (_what, config, message) => {
    await expect(bundleApp(app(config, tiny()))).rejects.toThrow(message);
  });

  test('refuses a component with a "use node" module, as Convex does', async () => {
    const dir = app(
      `import tiny from "../tiny/convex.config.js";\nconst app = defineApp();\napp.use(tiny);\nexport default app;\n`,
      tiny({ "tiny/fetcher.js": `"use node";\nimport { actionGeneric } from "convex/server";\nexport const go = actionGeneric({ args: {}, handler: async () => 1 });\n` }),
    );
    await expect(bundleApp(dir)).rejects.toThrow(/"use node" is not supported in components .*fetcher\.js/);
  });

  test("runs a component's crons on the component's own scheduler", async () => {
    const dir = app(
      `import tiny from "../tiny/convex.config.js";\nconst app = defineApp();\napp.use(tiny);\nexport default app;\n`,
      tiny({
        "tiny/schema.js": `import { defineSchema, defineTable } from "convex/server";\nimport { v } from "convex/values";\nexport default defineSchema({ ticks: defineTable({ at: v.number() }) });\n`,
        "tiny/ticks.js": `import { internalMutationGeneric } from "convex/server";\nexport const tick = internalMutationGeneric({ args: {}, handler: async (ctx) => { await ctx.db.insert("ticks", { at: Date.now() }); } });\n`,
        "tiny/crons.js": `import { cronJobs, makeFunctionReference } from "convex/server";\nconst crons = cronJobs();\ncrons.interval("tick", { seconds: 1 }, makeFunctionReference("ticks:tick"));\nexport default crons;\n`,
      }),
    );
    const running = await startTestEngine({ appDir: dir, dataDir: path.join(dir, "..", "data") });
    try {
      // The cron runs by itself, as a job of the component's scheduler; the app's has none.
      const count = (table: string) => running.engine.store.count(table);
      await eventually(async () => (count("tiny/ticks") >= 2 ? true : undefined), "two runs of the component's cron");
      expect(count("tiny/_scheduled_functions")).toBeGreaterThanOrEqual(2);
      expect(count("_scheduled_functions")).toBe(0);
    } finally {
      await running.close();
    }
  });

  test.each([
    ["a required env var left unbound", `app.use(probe);`, /Component "probe" cannot start: its required env var GREETING is not set/],
    [
      "an env value its validator refuses",
      `app.use(probe, { env: { GREETING: "hi", MOOD: "angry" } });`,
      /Component "probe" cannot start: its env var MOOD is invalid/,
    ],
    [
      "an env var the component does not declare",
      `app.use(probe, { env: { GREETING: "hi", COLOR: "red" } } as never);`,
      /Component "probe" cannot start: it is given the env var COLOR, which defineComponent\("probe"\) does not declare/,
    ],
  ])("refuses %s when the app starts", async (_what, use, message) => {
    const dir = app(`import probe from ${JSON.stringify(PROBE)};\nconst app = defineApp();\n${use}\nexport default app;\n`);
    await expect(startTestEngine({ appDir: dir, dataDir: path.join(dir, "..", "data") })).rejects.toThrow(message);
  });
});
