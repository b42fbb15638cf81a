import { ConvexReactClient } from "convex/react";
import { createServer, request as httpRequest, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import WebSocket from "ws";
import { api, internal } from "../../convex/_generated/api";
import { adminClient } from "../../packages/engine/test/support/admin-client";
import { startTestEngine, type TestEngine } from "../support/app-engine";

/**
 * The README's "Sign in from React" recipe, run as written: the front end's
 * dev server forwards `POST /dev-token` to the engine's `POST
 * /api/admin/token`, adding the admin key server-side (here a small proxy
 * doing what the README's Vite `server.proxy` entry does), and the page's
 * `fetchAccessToken` caches the token until a minute before it expires and
 * fetches a fresh one when Convex asks (`forceRefreshToken`). Tokens are
 * made short-lived here so the refresh happens within the test.
 */
describe("signing in from React with dev tokens", () => {
  let running: TestEngine;
  let devServer: Server;
  let devServerUrl: string;
  const forwarded: { origin: string | undefined; authorization: string | undefined }[] = [];

  beforeAll(async () => {
    running = await startTestEngine({ dev: true });
    await adminClient(running.engine.cloudUrl, running.engine.adminKey).mutation(internal.users.createUser, { clerkId: "user_react", username: "reacty" });
    const target = new URL(running.engine.cloudUrl);
    // What `server.proxy["/dev-token"]` in the README's vite.config.ts does.
    devServer = createServer((req, res) => {
      const headers = { ...req.headers, host: target.host, authorization: `Convex ${running.engine.adminKey}` };
      delete headers.origin;
      forwarded.push({ origin: headers.origin, authorization: headers.authorization });
      const upstream = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: "/api/admin/token", headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => devServer.listen(0, "127.0.0.1", () => resolve()));
    devServerUrl = `http://127.0.0.1:${(devServer.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => devServer?.close(() => resolve()));
    await running?.close();
  });

  test("the page signs in without ever holding the admin key, and the token is refreshed before it expires", async () => {
    const calls: boolean[] = [];
    let cached: string | null = null;
    let onFetched: () => void = () => {};
    // As in the README's useDevAuth, with the subject fixed and a short lifetime.
    const fetchAccessToken = async ({ forceRefreshToken }: { forceRefreshToken: boolean }): Promise<string | null> => {
      calls.push(forceRefreshToken);
      if (!forceRefreshToken && cached !== null && expiresAt(cached) - Date.now() > 60_000) return cached;
      const response = await fetch(`${devServerUrl}/dev-token`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Origin: "http://localhost:5173" },
        body: JSON.stringify({ subject: "user_react", ttlSeconds: 15 }),
      });
      if (!response.ok) return null;
      cached = ((await response.json()) as { token: string }).token;
      queueMicrotask(() => onFetched());
      return cached;
    };

    const client = new ConvexReactClient(running.engine.cloudUrl, { webSocketConstructor: WebSocket as unknown as typeof globalThis.WebSocket, logger: false });
    try {
      const states: boolean[] = [];
      let onState: () => void = () => {};
      client.setAuth(fetchAccessToken, (isAuthenticated) => {
        states.push(isAuthenticated);
        onState();
      });
      await new Promise<void>((resolve) => {
        onState = () => states.includes(true) && resolve();
        onState();
      });
      expect(await client.query(api.users.getCurrentUser, {})).toMatchObject({ username: "reacty" });
      // The browser's Origin never reached the engine; the key was added by the dev server.
      expect(forwarded[0]).toEqual({ origin: undefined, authorization: `Convex ${running.engine.adminKey}` });

      // Convex asks for a fresh token before the 15 s one runs out, and stays signed in.
      const started = calls.length;
      await new Promise<void>((resolve) => {
        onFetched = () => calls.slice(started).includes(true) && resolve();
      });
      expect(forwarded.length).toBeGreaterThanOrEqual(2);
      expect(await client.query(api.users.getCurrentUser, {})).toMatchObject({ username: "reacty" });
      expect(states.at(-1)).toBe(true);
    } finally {
      await client.close();
    }
  }, 40_000);

  test("the engine itself refuses a token request made straight from a page on another origin", async () => {
    const response = await fetch(`${running.engine.cloudUrl}/api/admin/token`, {
      method: "POST",
      headers: { Origin: "http://localhost:5173", Authorization: `Convex ${running.engine.adminKey}` },
      body: JSON.stringify({ subject: "user_react" }),
    });
    expect(response.status).toBe(403);
  });
});

/** A JWT's `exp` in ms (the payload is base64url JSON). */
function expiresAt(token: string): number {
  const payload = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8")) as { exp: number };
  return payload.exp * 1000;
}
