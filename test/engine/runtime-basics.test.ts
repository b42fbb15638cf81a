import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestEngine, type TestEngine } from "../support/test-engine";

const APP = fileURLToPath(new URL("fixtures/basic/convex", import.meta.url));
const ref = <K extends "query" | "mutation" | "action">(name: string) => makeFunctionReference<K>(name);

describe("runtime over ConvexHttpClient", () => {
  let running: TestEngine;
  let client: ConvexHttpClient;

  beforeAll(async () => {
    running = await startTestEngine({ appDir: APP });
    client = new ConvexHttpClient(running.engine.cloudUrl, { logger: false });
  });
  afterAll(async () => {
    await running?.close();
  });

  test("a mutation's insert is visible to a later query", async () => {
    const id = await client.mutation(ref<"mutation">("messages:send"), { author: "ada", body: "hello" });
    expect(typeof id).toBe("string");
    const list = await client.query(ref<"query">("messages:list"), {});
    expect(list.map((m: { body: string }) => m.body)).toContain("hello");
  });
});
