import { fileURLToPath } from "node:url";
import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { rawRequest } from "./support/raw-http";
import { startTestEngine, type TestEngine } from "./support/test-engine";

const APP = fileURLToPath(new URL("fixtures/basic/convex", import.meta.url));
const send = makeFunctionReference<"mutation", { author: string; body: string }, string>("messages:send");
const list = makeFunctionReference<"query", Record<string, never>, { _id: string; body: string }[]>("messages:list");

/**
 * The attack table, part three: the admin API (the dashboard's, the CLI's and
 * the test harness's door into every table, file, env var and token) asked
 * by someone without the admin key. Every route, and every way of presenting
 * a credential that is not the key, is refused with 403 `AdminKeyRequired`
 * and changes nothing. The README's attack table lists the rows.
 */
describe("attack table: the admin API without the admin key", () => {
  let running: TestEngine;
  let url: string;
  let userToken: string;
  let messageId: string;

  // Every route of `http/admin-api.ts` and `http/snapshot-routes.ts`, with a body that
  // would do harm if it were accepted.
  const routes: { method: "GET" | "POST"; path: string; body?: () => string }[] = [
    { method: "GET", path: "/api/admin/tables" },
    { method: "GET", path: "/api/admin/schema?table=messages" },
    { method: "GET", path: "/api/admin/documents?table=messages" },
    { method: "GET", path: "/api/admin/document?table=messages&id=x" },
    { method: "GET", path: "/api/admin/files" },
    { method: "GET", path: "/api/admin/functions" },
    { method: "GET", path: "/api/admin/env" },
    { method: "GET", path: "/api/admin/calls" },
    { method: "GET", path: "/api/admin/events" },
    { method: "GET", path: "/api/admin/auth/issuers" },
    { method: "POST", path: "/api/admin/env", body: () => JSON.stringify({ name: "PWNED", value: "1" }) },
    { method: "POST", path: "/api/admin/token", body: () => JSON.stringify({ subject: "user_victim" }) },
    { method: "POST", path: "/api/admin/documents/insert", body: () => JSON.stringify({ table: "messages", document: { author: "x", body: "planted" } }) },
    { method: "POST", path: "/api/admin/documents/replace", body: () => JSON.stringify({ table: "messages", id: messageId, document: { author: "x", body: "defaced" } }) },
    { method: "POST", path: "/api/admin/documents/delete", body: () => JSON.stringify({ table: "messages", ids: [messageId] }) },
    { method: "POST", path: "/api/admin/files/upload", body: () => "not a file anyone should store" },
    { method: "POST", path: "/api/admin/files/delete", body: () => JSON.stringify({ storageId: "kg2000000000000000000000000000000" }) },
    { method: "POST", path: "/api/admin/scheduler/cancel", body: () => JSON.stringify({ id: "kg2000000000000000000000000000000" }) },
    { method: "POST", path: "/api/admin/scheduler/drain", body: () => JSON.stringify({}) },
    { method: "POST", path: "/api/admin/export" },
    { method: "POST", path: "/api/admin/import?mode=replace&format=jsonLines&table=messages", body: () => '{"author":"x","body":"imported"}\n' },
  ];

  beforeAll(async () => {
    running = await startTestEngine({ appDir: APP, dev: true });
    url = running.engine.cloudUrl;
    const minted = await fetch(`${url}/api/dev/token`, {
      method: "POST",
      headers: { Authorization: `Convex ${running.engine.adminKey}` },
      body: JSON.stringify({ subject: "user_mallory" }),
    });
    userToken = ((await minted.json()) as { token: string }).token;
    messageId = await new ConvexHttpClient(url, { logger: false }).mutation(send, { author: "alice", body: "hello" });
  });
  afterAll(async () => running?.close());

  /** Everything a refused request could have changed. */
  async function state() {
    const messages = await new ConvexHttpClient(url, { logger: false }).query(list, {});
    const files = await fetch(`${url}/api/admin/files`, { headers: { Authorization: `Convex ${running.engine.adminKey}` } });
    return { env: running.engine.app.env.list(), messages, files: await files.json() };
  }

  const key = () => running.engine.adminKey;
  const credentials: [string, () => Record<string, string>][] = [
    ["no Authorization header", () => ({})],
    ["a signed-in user's JWT", () => ({ Authorization: `Bearer ${userToken}` })],
    ["a wrong key of the same length", () => ({ Authorization: `Convex ${key().slice(0, -4)}${key().endsWith("AAAA") ? "BBBB" : "AAAA"}` })],
    ["the key's prefix only", () => ({ Authorization: `Convex ${key().slice(0, key().length >> 1)}` })],
    ["a wrong key with an acting-as identity", () => ({ Authorization: `Convex local|wrong:${Buffer.from(JSON.stringify({ subject: "user_admin" })).toString("base64")}` })],
    ["the key as a Bearer token", () => ({ Authorization: `Bearer ${key()}` })],
    ["the key in the query string", () => ({})],
  ];

  for (const [name, headers] of credentials) {
    test(`every admin route refuses ${name} and changes nothing`, async () => {
      const before = await state();
      for (const route of routes) {
        const path = name === "the key in the query string" ? `${route.path}${route.path.includes("?") ? "&" : "?"}key=${encodeURIComponent(key())}` : route.path;
        const response = await rawRequest(`${url}${path}`, { method: route.method, headers: { "Content-Type": "application/json", ...headers() }, body: route.body?.() });
        expect(response.status, `${route.method} ${route.path}`).toBe(403);
        expect(JSON.parse(response.body), `${route.method} ${route.path}`).toMatchObject({ code: "AdminKeyRequired" });
        expect(response.body).not.toContain(key());
      }
      expect(await state()).toEqual(before);
    });
  }

  test("an internal function called with a wrong admin key is refused with 401 and does not run", async () => {
    const response = await rawRequest(`${url}/api/mutation`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: "Convex local|wrong" },
      body: JSON.stringify({ path: "messages:internalOnly", args: [{}], format: "convex_encoded_json" }),
    });
    expect(response.status).toBe(401);
    expect(JSON.parse(response.body)).toMatchObject({ code: "BadAdminKey" });
    expect(response.body).not.toContain("secret");
  });

  test("with the key the same routes answer, so the refusals above are the key's doing", async () => {
    for (const path of ["/api/admin/tables", "/api/admin/env", "/api/admin/functions"]) {
      const response = await rawRequest(`${url}${path}`, { headers: { Authorization: `Convex ${key()}` } });
      expect(response.status, path).toBe(200);
    }
  });
});
