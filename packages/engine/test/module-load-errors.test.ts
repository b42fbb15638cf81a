import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { isEngineError } from "../src/errors";
import { bundleApp } from "../src/runtime/app-bundler";
import { startTestEngine } from "./support/test-engine";

/**
 * A module that throws while loading (top-level code, a bad route, an env var
 * read too early) is reported at its source file and line, never as a line
 * of the engine's bundle.
 */
describe("errors while loading the functions", () => {
  let appDir: string;
  beforeAll(() => {
    appDir = path.join(mkdtempSync(path.join(tmpdir(), "load-error-")), "convex");
    mkdirSync(path.join(appDir, "lib"), { recursive: true });
    writeFileSync(
      path.join(appDir, "lib", "config.ts"),
      [
        "// Read at import time, as apps often do.",
        "export function requiredEnv(name: string): string {",
        "  const value = process.env[name];",
        "  if (value === undefined) throw new Error(`Set ${name} with env set`);",
        "  return value;",
        "}",
        "",
      ].join("\n"),
    );
    writeFileSync(
      path.join(appDir, "posts.ts"),
      [
        'import { queryGeneric } from "convex/server";',
        'import { requiredEnv } from "./lib/config";',
        "",
        'const secret = requiredEnv("WEBHOOK_SECRET");',
        "",
        "export const list = queryGeneric({ args: {}, handler: async () => secret.length });",
        "",
      ].join("\n"),
    );
  });
  afterAll(() => rmSync(path.dirname(appDir), { recursive: true, force: true }));

  test("names the source file and line of the throw and of the module that called it", async () => {
    const bundle = await bundleApp(appDir);
    const error = await startTestEngine({ appDir, bundle }).then(
      (running) => running.close().then(() => null),
      (e: unknown) => e,
    );
    expect(isEngineError(error, "ModuleLoadFailed")).toBe(true);
    const lines = (error as Error).message.split("\n");
    expect(lines[0]).toMatch(/^Failed to load \S*convex\/lib\/config\.ts: Uncaught Error: Set WEBHOOK_SECRET with env set$/);
    expect(lines[1]).toMatch(/^ {4}at (requiredEnv \()?\S*convex\/lib\/config\.ts:4:\d+\)?$/);
    expect(lines[2]).toMatch(/^ {4}at \S*convex\/posts\.ts:4:\d+$/);
    expect((error as Error).message).not.toMatch(/bundle\.js/);
  });

  test("with the variable set, the same folder loads", async () => {
    const running = await startTestEngine({ appDir, bundle: await bundleApp(appDir), env: { WEBHOOK_SECRET: "whsec_x" } });
    expect(running.engine.app.definition.functions.has("posts:list")).toBe(true);
    await running.close();
  });
});
