import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestEngine, type TestEngine } from "./support/test-engine";

const APP = fileURLToPath(new URL("fixtures/basic/convex", import.meta.url));

describe("CORS on /api/*", () => {
  let running: TestEngine;
  beforeAll(async () => {
    running = await startTestEngine({ appDir: APP });
  });
  afterAll(async () => running?.close());

  test("a browser's preflight gets the origin, credentials, methods, its requested headers and a max-age", async () => {
    const response = await fetch(`${running.engine.cloudUrl}/api/query`, {
      method: "OPTIONS",
      headers: { origin: "https://app.example", "access-control-request-method": "POST", "access-control-request-headers": "content-type, authorization" },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(response.headers.get("access-control-allow-credentials")).toBe("true");
    expect(response.headers.get("access-control-allow-methods")).toContain("POST");
    expect(response.headers.get("access-control-allow-headers")).toBe("content-type, authorization");
    expect(response.headers.get("access-control-max-age")).toBe("86400");
  });

  test("the call itself is readable cross-origin; without an Origin any origin is allowed", async () => {
    const call = (headers: Record<string, string>) =>
      fetch(`${running.engine.cloudUrl}/api/query`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ path: "messages:list", args: [{}], format: "convex_encoded_json" }),
      });
    const fromBrowser = await call({ origin: "https://app.example" });
    expect(fromBrowser.status).toBe(200);
    expect(fromBrowser.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(fromBrowser.headers.get("access-control-allow-credentials")).toBe("true");
    expect(fromBrowser.headers.get("vary")).toBe("Origin");
    expect(((await fromBrowser.json()) as { status: string }).status).toBe("success");
    const fromServer = await call({});
    expect(fromServer.headers.get("access-control-allow-origin")).toBe("*");
  });
});
