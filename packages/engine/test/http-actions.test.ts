import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestEngine, type TestEngine } from "./support/test-engine";
import { startTestIssuer, type TestIssuer } from "./support/test-issuer";

const APP = fileURLToPath(new URL("fixtures/http-app/convex", import.meta.url));

/** HTTP actions (`convex/http.ts`) on the site port (and only there). */
describe("HTTP actions", () => {
  let running: TestEngine;
  let issuer: TestIssuer;
  let site: string;

  beforeAll(async () => {
    issuer = await startTestIssuer();
    running = await startTestEngine({ appDir: APP, env: { CLERK_JWT_ISSUER_DOMAIN: issuer.issuer } });
    site = running.engine.siteUrl;
  });
  afterAll(async () => {
    await running?.close();
    await issuer?.close();
  });

  test("a Request goes in with method, headers, URL and body; the Response comes back as built", async () => {
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    const response = await fetch(`${site}/echo?x=1`, {
      method: "POST",
      headers: { "content-type": "application/x-test" },
      body: bytes,
    });
    expect(response.status).toBe(201);
    expect(response.headers.get("content-type")).toBe("application/x-test");
    expect(response.headers.get("x-method")).toBe("POST");
    expect(response.headers.get("x-url")).toBe(`${site}/echo?x=1`);
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(bytes);
  });

  test("the routes are not served under /http/ on the API port, which is the dashboard's origin", async () => {
    const response = await fetch(`${running.engine.cloudUrl}/http/echo`, { method: "POST", body: "hi" });
    expect(response.status).toBe(404);
  });

  test("exact paths win over prefixes; a prefix route sees the full path; unknown paths and methods are 404", async () => {
    expect(await (await fetch(`${site}/files/exact`)).text()).toBe("exact route wins");
    expect(await (await fetch(`${site}/files/a/b.png`)).text()).toBe("prefix route saw /files/a/b.png");
    const missing = await fetch(`${site}/nothing-here`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe("No HttpAction routed for /nothing-here");
    expect((await fetch(`${site}/echo`, { method: "GET" })).status).toBe(404);
  });

  test("ctx.runMutation, runQuery and runAction work inside, with the caller's identity", async () => {
    const token = await issuer.mint({ sub: "user_http" });
    const first = await fetch(`${site}/notes`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ text: "hello" }),
    });
    expect(first.status).toBe(200);
    const body = (await first.json()) as { id: string; count: number; loud: string };
    expect(body.loud).toBe("HELLO");
    expect(body.count).toBeGreaterThanOrEqual(1);
    const notes = await adminDocuments(running, "notes");
    expect(notes.find((n) => n._id === body.id)).toMatchObject({ text: "hello", by: "user_http" });
  });

  test("a bad token does not reject the request; getUserIdentity throws only when called", async () => {
    const anonymous = await fetch(`${site}/whoami`);
    expect(await anonymous.json()).toEqual({ subject: null });
    const bad = await fetch(`${site}/whoami`, { headers: { authorization: `Bearer ${await issuer.mintExpired()}` } });
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as { authError: string }).authError).toMatch(/expired/i);
    const echo = await fetch(`${site}/echo`, { method: "POST", headers: { authorization: "Bearer not-a-jwt" }, body: "x" });
    expect(echo.status).toBe(201);
  });

  test("streamed response bodies arrive whole", async () => {
    const response = await fetch(`${site}/stream`);
    expect(await response.text()).toBe("chunk0;chunk1;chunk2;chunk3;chunk4;");
  });

  test("a thrown error is a 500 without internals", async () => {
    const response = await fetch(`${site}/boom`);
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(text).toMatch(/Server Error/);
    expect(text).not.toMatch(/at .*\.(ts|js):\d+/);
  });

  test("ctx.scheduler works inside and the job is recorded", async () => {
    const response = await fetch(`${site}/schedule`, { method: "POST" });
    const { id } = (await response.json()) as { id: string };
    const jobs = await adminDocuments(running, "_scheduled_functions");
    expect(jobs.find((j) => j._id === id)).toMatchObject({ name: "notes.js:add", args: [{ text: "scheduled from http" }] });
  });

  test("CORS preflight is answered only where the router defines it", async () => {
    const defined = await fetch(`${site}/cors`, { method: "OPTIONS", headers: { origin: "https://app.example" } });
    expect(defined.status).toBe(204);
    expect(defined.headers.get("access-control-allow-methods")).toBe("POST");
    const undefinedRoute = await fetch(`${site}/echo`, { method: "OPTIONS", headers: { origin: "https://app.example" } });
    expect(undefinedRoute.status).toBe(404);
    expect(undefinedRoute.headers.get("access-control-allow-origin")).toBeNull();
  });

  test("a body over the HTTP action limit is refused with 413 before the action runs", async () => {
    const before = (await adminDocuments(running, "notes")).length;
    const response = await fetch(`${site}/notes`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: new Uint8Array(21 * 1024 * 1024),
    });
    expect(response.status).toBe(413);
    expect((await adminDocuments(running, "notes")).length).toBe(before);
  });
});

async function adminDocuments(running: TestEngine, table: string): Promise<Record<string, unknown>[]> {
  const response = await fetch(`${running.engine.cloudUrl}/api/admin/documents?table=${table}&limit=1000`, {
    headers: { authorization: `Convex ${running.engine.adminKey}` },
  });
  return ((await response.json()) as { documents: Record<string, unknown>[] }).documents;
}
