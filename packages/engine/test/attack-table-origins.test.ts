import { hostname } from "node:os";
import { fileURLToPath } from "node:url";
import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { remoteDevTokenRefusal } from "../src/http/dev-token-route";
import { createHostPolicy } from "../src/http/host-policy";
import { rawRequest, rawUpgrade } from "./support/raw-http";
import { startTestEngine, type TestEngine } from "./support/test-engine";

const APP = fileURLToPath(new URL("fixtures/basic/convex", import.meta.url));
const whoAmI = makeFunctionReference<"query", Record<string, never>, { subject: string } | null>("messages:whoAmI");

/**
 * The attack table, part two: what a web page the developer happens to open
 * can do to an engine on their machine (drive-by requests, DNS rebinding).
 * Each row is refused and changes nothing; the README's attack table lists
 * them with their answers.
 */
describe("attack table: pages on other origins and rebound host names", () => {
  let running: TestEngine;
  let url: string;
  let site: string;

  beforeAll(async () => {
    running = await startTestEngine({ appDir: APP, dev: true });
    url = running.engine.cloudUrl;
    site = running.engine.siteUrl;
  });
  afterAll(async () => running?.close());

  /** What a page on evil.example sends: a simple POST (text/plain, so no preflight) with its Origin. */
  const fromEvilPage = (path: string, body: string) =>
    rawRequest(`${url}${path}`, { method: "POST", headers: { Origin: "https://evil.example", "Content-Type": "text/plain" }, body });

  test("a page on another origin minting a dev token with a simple POST is refused, unreadable, and mints nothing", async () => {
    const response = await fromEvilPage("/api/dev/token", JSON.stringify({ subject: "user_victim" }));
    expect(response.status).toBe(403);
    expect(response.headers["access-control-allow-origin"]).toBeUndefined();
    expect(JSON.parse(response.body)).toMatchObject({ code: "CrossOriginForbidden" });
    expect(response.body).not.toMatch(/token"\s*:/);
  });

  test("the dev token endpoint needs the admin key, even from the engine's own origin", async () => {
    const anonymous = await rawRequest(`${url}/api/dev/token`, { method: "POST", body: JSON.stringify({ subject: "user_victim" }) });
    expect(anonymous.status).toBe(403);
    expect(JSON.parse(anonymous.body)).toMatchObject({ code: "AdminKeyRequired" });

    const wrongKey = await rawRequest(`${url}/api/dev/token`, {
      method: "POST",
      headers: { Authorization: "Convex local|00wrong" },
      body: JSON.stringify({ subject: "user_victim" }),
    });
    expect(wrongKey.status).toBe(403);

    // With the key (the CLI, a script, the dashboard) it works and the token is honoured.
    const minted = await fetch(`${url}/api/dev/token`, {
      method: "POST",
      headers: { Authorization: `Convex ${running.engine.adminKey}` },
      body: JSON.stringify({ subject: "user_dev", ttlSeconds: 120 }),
    });
    expect(minted.status).toBe(200);
    const { token } = (await minted.json()) as { token: string };
    const claims = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as { exp: number; iat: number };
    expect(claims.exp - claims.iat).toBe(120);
    const client = new ConvexHttpClient(url, { logger: false });
    client.setAuth(token);
    expect(await client.query(whoAmI, {})).toMatchObject({ subject: "user_dev" });
  });

  test("the admin API from another origin is refused even with the key, and its preflight gets no CORS", async () => {
    const withKey = await rawRequest(`${url}/api/admin/env`, {
      method: "POST",
      headers: { Origin: "https://evil.example", Authorization: `Convex ${running.engine.adminKey}`, "Content-Type": "application/json" },
      body: JSON.stringify({ name: "PWNED", value: "1" }),
    });
    expect(withKey.status).toBe(403);
    expect(withKey.headers["access-control-allow-origin"]).toBeUndefined();
    expect(running.engine.app.env.list()).not.toHaveProperty("PWNED");

    const preflight = await rawRequest(`${url}/api/admin/token`, {
      method: "OPTIONS",
      headers: { Origin: "https://evil.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization" },
    });
    expect(preflight.headers["access-control-allow-origin"]).toBeUndefined();
    expect(preflight.headers["access-control-allow-headers"]).toBeUndefined();
  });

  test("the function API, storage and sync keep permissive CORS for the app's own pages", async () => {
    const query = await rawRequest(`${url}/api/query`, {
      method: "POST",
      headers: { Origin: "http://localhost:5173", "Content-Type": "application/json" },
      body: JSON.stringify({ path: "messages:list", args: [{}], format: "convex_encoded_json" }),
    });
    expect(query.status).toBe(200);
    expect(query.headers["access-control-allow-origin"]).toBe("http://localhost:5173");
    const upload = await rawRequest(`${url}/api/storage/upload?token=x`, {
      method: "OPTIONS",
      headers: { Origin: "http://localhost:5173", "Access-Control-Request-Method": "POST" },
    });
    expect(upload.status).toBe(204);
    expect(upload.headers["access-control-allow-origin"]).toBe("http://localhost:5173");
    const sync = await rawUpgrade(`${url}/api/1.48.0/sync`, { Origin: "http://localhost:5173" });
    expect(sync.status).toBe(101);
  });

  const rebound = ["evil.example", "evil.example:3210", "127.0.0.1.evil.example", "localhost.evil.example"];
  for (const host of rebound) {
    test(`a request under a rebound DNS name (Host: ${host}) is refused on both ports`, async () => {
      const api = await rawRequest(`${url}/api/query`, {
        method: "POST",
        headers: { Host: host, "Content-Type": "application/json" },
        body: JSON.stringify({ path: "messages:list", args: [{}] }),
      });
      expect(api.status).toBe(403);
      expect(api.body).toMatch(/does not serve the host "[^"]+"[^]*--allowed-host/);
      const dashboard = await rawRequest(`${url}/dashboard`, { headers: { Host: host } });
      expect(dashboard.status).toBe(403);
      const action = await rawRequest(`${site}/anything`, { headers: { Host: host } });
      expect(action.status).toBe(403);
      const socket = await rawUpgrade(`${url}/api/1.48.0/sync`, { Host: host, Origin: `http://${host}` });
      expect(socket.status).toBe(403);
    });
  }

  test("loopback names and IP addresses are always served", async () => {
    const port = new URL(url).port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `app.localhost:${port}`, `[::1]:${port}`, `LOCALHOST.:${port}`]) {
      const response = await rawRequest(`${url}/version`, { headers: { Host: host } });
      expect(response.status, host).toBe(200);
    }
  });

  test("a WebSocket upgrade on a private path from another origin is refused before routing", async () => {
    const response = await rawUpgrade(`${url}/api/admin/socket`, { Origin: "https://evil.example" });
    expect(response.status).toBe(403);
  });
});

describe("--allowed-host", () => {
  test("names listed are served, `.name` covers subdomains, others still are not", async () => {
    const running = await startTestEngine({ appDir: fileURLToPath(new URL("fixtures/basic/convex", import.meta.url)), allowedHosts: ["tunnel.example", ".dev.example"] });
    try {
      const status = async (host: string) => (await rawRequest(`${running.engine.cloudUrl}/version`, { headers: { Host: host } })).status;
      expect(await status("tunnel.example")).toBe(200);
      expect(await status("dev.example")).toBe(200);
      expect(await status("a.b.dev.example")).toBe(200);
      expect(await status("tunnel.example.evil")).toBe(403);
      expect(await status("evildev.example")).toBe(403);
    } finally {
      await running.close();
    }
  });
});

describe("host policy and dev tokens beyond loopback", () => {
  test("bound to every interface: the machine's name and LAN addresses work, other names do not", () => {
    const policy = createHostPolicy({ bindHost: "0.0.0.0" });
    expect(policy.allows("192.168.1.20:3210")).toBe(true);
    expect(policy.allows(`${hostname()}:3210`)).toBe(true);
    expect(policy.allows(`${hostname().split(".")[0]}.local:3210`)).toBe(true);
    expect(policy.allows("evil.example:3210")).toBe(false);
  });

  test("a public URL's host is served", () => {
    const policy = createHostPolicy({ bindHost: "127.0.0.1", servedUrls: ["https://api.example.com"] });
    expect(policy.allows("api.example.com")).toBe(true);
    expect(policy.allows("other.example.com")).toBe(false);
  });

  test("the dev token endpoint stays off on a non-loopback bind unless its own flag asks for it", () => {
    for (const host of ["127.0.0.1", "127.0.0.2", "localhost", "::1"]) expect(remoteDevTokenRefusal(host, false)).toBeNull();
    for (const host of ["0.0.0.0", "::", "192.168.1.20", "my-laptop.local"]) {
      expect(remoteDevTokenRefusal(host, false)).toMatch(/--allow-remote-dev-token/);
      expect(remoteDevTokenRefusal(host, true)).toBeNull();
    }
  });
});
