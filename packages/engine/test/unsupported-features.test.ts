import path from "node:path";
import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startTestEngine, type TestEngine } from "./support/test-engine";

/**
 * Every feature of convex@1.48.0 the engine lacks is refused with a message that names it
 * ("X is not supported by this engine"), through the official client, and nothing is
 * written.
 */

const APP = path.resolve(__dirname, "fixtures/unsupported/convex");
let running: TestEngine;
let http: ConvexHttpClient;

beforeAll(async () => {
  running = await startTestEngine({ appDir: APP });
  http = new ConvexHttpClient(running.engine.cloudUrl);
});
afterAll(async () => {
  await running?.close();
});

const cases: [kind: "query" | "mutation" | "action", name: string, message: RegExp][] = [
  ["mutation", "storeInMutation", /ctx\.storage\.store\(\) in a mutation is not supported by this engine/],
  ["mutation", "getInMutation", /ctx\.storage\.get\(\) in a mutation is not supported by this engine/],
  ["action", "auditLog", /log\.audit\(\) \(audit logging\) is not supported by this engine/],
  ["action", "serviceToken", /getServiceToken\(\) is not supported by this engine/],
  ["action", "serviceUrl", /getServiceUrl\(\) is not supported by this engine/],
  ["query", "metricsInQuery", /ctx\.meta\.getTransactionMetrics\(\) is not supported by this engine/],
  ["mutation", "commitTs", /db\.vars\.commitTs placeholders in documents are not supported by this engine/],
  ["action", "runRequest", /HttpRouter\.runRequest\(\) is not supported by this engine/],
  ["query", "madeUpOperation", /The Convex operation "1\.0\/madeUp" is not supported by this engine/],
];

test.each(cases)("%s features:%s is refused by name", async (kind, name, message) => {
  const ref = makeFunctionReference<typeof kind>(`features:${name}`);
  const call =
    kind === "query" ? http.query(ref as never, {}) : kind === "mutation" ? http.mutation(ref as never, {}) : http.action(ref as never, {});
  const error = await call.then(
    () => null,
    (e: Error) => e,
  );
  expect(error?.message).toMatch(message);
  expect(error?.message).not.toMatch(/Unknown (async |JS )?operation/);
});

test("a refused write leaves nothing behind", async () => {
  await expect(http.mutation(makeFunctionReference<"mutation">("features:commitTs"), {})).rejects.toThrow();
  expect(running.engine.store.count("stamps")).toBe(0);
});
