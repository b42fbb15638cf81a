import { fileURLToPath } from "node:url";
import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { ConvexError } from "convex/values";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestEngine, type TestEngine } from "./support/test-engine";

const BASIC = fileURLToPath(new URL("fixtures/basic/convex", import.meta.url));
const HTTP_APP = fileURLToPath(new URL("fixtures/http-app/convex", import.meta.url));
const failAfterWrite = makeFunctionReference<"mutation", { body: string }, null>("messages:failAfterWrite");
const convexErrorInner = makeFunctionReference<"mutation", Record<string, never>, null>("messages:convexErrorInner");
const logs = makeFunctionReference<"query", Record<string, never>, null>("messages:logs");
const get = makeFunctionReference<"query", { id: string }, unknown>("messages:get");

const REDACTED = /^\[Request ID: ([0-9a-f]{16})\] Server Error$/;

/** An engine whose log the test reads. */
async function engineWithLog(appDir: string, dev: boolean): Promise<{ running: TestEngine; errors: string[] }> {
  const errors: string[] = [];
  const running = await startTestEngine({
    appDir,
    dev,
    logger: { info: () => {}, warn: () => {}, error: (message) => errors.push(message) },
  });
  return { running, errors };
}

/**
 * Outside dev mode (what `npm start` runs) clients see function failures as a
 * Convex production deployment shows them: `[Request ID: …] Server Error`,
 * the full error in the engine's log under that id, no log lines; a
 * `ConvexError` keeps its data. Dev mode keeps the helpful messages.
 */
describe("function errors reach clients as Convex production sends them", () => {
  let prod: { running: TestEngine; errors: string[] };
  let url: string;
  beforeAll(async () => {
    prod = await engineWithLog(BASIC, false);
    url = prod.running.engine.cloudUrl;
  });
  afterAll(async () => prod?.running.close());

  const loggedFor = (requestId: string) => prod.errors.find((line) => line.startsWith(`[Request ID: ${requestId}]`));

  test("over HTTP: a thrown Error is 'Server Error' with a request id; the log has the message under that id", async () => {
    const client = new ConvexHttpClient(url, { logger: false });
    const error = (await client.mutation(failAfterWrite, { body: "x" }).catch((e: Error) => e)) as Error;
    expect(error).not.toBeInstanceOf(ConvexError);
    const match = REDACTED.exec(error.message);
    expect(match, error.message).not.toBeNull();
    expect(loggedFor(match![1]!)).toBe(`[Request ID: ${match![1]}] messages:failAfterWrite failed: Uncaught Error: boom after write`);
  });

  test("argument validation and unknown functions are redacted too; the caller learns nothing of the code", async () => {
    const client = new ConvexHttpClient(url, { logger: false });
    const invalid = (await client.query(get, { id: 12 as unknown as string }).catch((e: Error) => e)) as Error;
    expect(invalid.message).toMatch(REDACTED);
    const missing = (await client.query(makeFunctionReference<"query">("messages:nope"), {}).catch((e: Error) => e)) as Error;
    expect(missing.message).toMatch(REDACTED);
    expect(loggedFor(REDACTED.exec(missing.message)![1]!)).toMatch(/Could not find public function for 'messages:nope'/);
  });

  test("a ConvexError keeps its data; log lines stay on the server", async () => {
    const client = new ConvexHttpClient(url, { logger: false });
    const error = await client.mutation(convexErrorInner, {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConvexError);
    expect((error as ConvexError<{ code: string; n: bigint }>).data).toEqual({ code: "INNER", n: 7n });
    const response = await fetch(`${url}/api/query`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ path: "messages:logs", args: [{}] }),
    });
    expect(await response.json()).toEqual({ status: "success", value: null });
  });

  test("over WebSocket: a failing mutation and a failing subscription are redacted the same way", async () => {
    const client = new ConvexClient(url, { logger: false });
    try {
      const error = (await client.mutation(failAfterWrite, { body: "x" }).catch((e: Error) => e)) as Error;
      expect(error.message).toMatch(/\[Request ID: [0-9a-f]{16}\] Server Error(\n|$)/);
      expect(error.message).not.toMatch(/boom/);
      const failed = await new Promise<Error>((resolve) => {
        client.onUpdate(get, { id: "not-an-id" }, () => {}, resolve);
      });
      expect(failed.message).toMatch(/\[Request ID: [0-9a-f]{16}\] Server Error(\n|$)/);
    } finally {
      await client.close();
    }
  });

  test("the admin key (dashboard, CLI) sees the full error", async () => {
    const admin = new ConvexHttpClient(url, { logger: false });
    (admin as unknown as { setAdminAuth(key: string): void }).setAdminAuth(prod.running.engine.adminKey);
    const error = (await admin.mutation(failAfterWrite, { body: "x" }).catch((e: Error) => e)) as Error;
    expect(error.message).toBe("Uncaught Error: boom after write");
  });

  test("an HTTP action's uncaught error is a 500 with the request id only", async () => {
    const http = await engineWithLog(HTTP_APP, false);
    try {
      const response = await fetch(`${http.running.engine.siteUrl}/boom`);
      expect(response.status).toBe(500);
      const body = (await response.json()) as { code: string; trace?: string };
      expect(body.code).toMatch(REDACTED);
      expect(JSON.stringify(body)).not.toMatch(/secret internal detail/);
      expect(http.errors.join("\n")).toMatch(/secret internal detail/);
    } finally {
      await http.running.close();
    }
  });

  test("in dev mode the messages and log lines reach the client as before", async () => {
    const dev = await engineWithLog(BASIC, true);
    try {
      const client = new ConvexHttpClient(dev.running.engine.cloudUrl, { logger: false });
      const error = (await client.mutation(failAfterWrite, { body: "x" }).catch((e: Error) => e)) as Error;
      expect(error.message).toBe("Uncaught Error: boom after write");
      const response = await fetch(`${dev.running.engine.cloudUrl}/api/query`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ path: "messages:logs", args: [{}] }),
      });
      expect(((await response.json()) as { logLines: string[] }).logLines).toHaveLength(3);
      expect(dev.errors).toEqual([]);
    } finally {
      await dev.running.close();
    }
  });
});
