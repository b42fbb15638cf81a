import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createEngine, type Engine } from "../../engine/engine";

const APP = path.join(__dirname, "fixtures/basic/convex");
const ref = <K extends "query" | "mutation" | "action">(name: string) => makeFunctionReference<K>(name);

describe("runtime over ConvexHttpClient", () => {
  let engine: Engine;
  let dir: string;
  let client: ConvexHttpClient;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "engine-basic-"));
    engine = await createEngine({ appDir: APP, dataDir: dir, port: 0, sitePort: 0, logger: quietLogger() });
    client = new ConvexHttpClient(engine.cloudUrl, { logger: false });
  });
  afterAll(async () => {
    await engine?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a mutation's insert is visible to a later query", async () => {
    const id = await client.mutation(ref<"mutation">("messages:send"), { author: "ada", body: "hello" });
    expect(typeof id).toBe("string");
    const list = await client.query(ref<"query">("messages:list"), {});
    expect(list.map((m: { body: string }) => m.body)).toContain("hello");
  });
});

function quietLogger() {
  return { info: () => {}, warn: () => {}, error: (m: string, e?: unknown) => console.error(m, e) };
}
