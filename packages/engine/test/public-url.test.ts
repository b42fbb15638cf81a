import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import type { NetworkInterfaceInfo } from "node:os";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { isEngineError } from "../src/errors";
import { resolvePublicUrls } from "../src/public-urls";
import { spawnEngine } from "./support/engine-process";
import { startTestEngine, type TestEngine } from "./support/test-engine";

/**
 * The engine's public origin (`--public-url`): what clients are told in
 * upload URLs, file URLs, CONVEX_CLOUD_URL and CONVEX_SITE_URL, when that is
 * not where the engine listens (a phone on the LAN, a TLS proxy in front).
 */

const FILES_APP = fileURLToPath(new URL("fixtures/files/convex", import.meta.url));
const generateUploadUrl = makeFunctionReference<"mutation", Record<string, never>, string>("files:generateUploadUrl");
const describeFile = makeFunctionReference<"query", { storageId: string }, { url: string | null }>("files:describe");
const deploymentUrls = makeFunctionReference<"query", Record<string, never>, { cloud: string; site: string }>("files:deploymentUrls");

const LAN: NodeJS.Dict<NetworkInterfaceInfo[]> = {
  lo: [{ address: "127.0.0.1", family: "IPv4", internal: true, netmask: "255.0.0.0", mac: "00:00:00:00:00:00", cidr: "127.0.0.1/8" }],
  wlan0: [
    { address: "fe80::1", family: "IPv6", internal: false, netmask: "ffff:ffff:ffff:ffff::", mac: "aa:bb:cc:dd:ee:ff", cidr: "fe80::1/64", scopeid: 3 },
    { address: "192.168.1.20", family: "IPv4", internal: false, netmask: "255.255.255.0", mac: "aa:bb:cc:dd:ee:ff", cidr: "192.168.1.20/24" },
  ],
};

describe("resolvePublicUrls", () => {
  const ports = { port: 3210, sitePort: 3211 };

  test("bound to loopback: clients are told where it listens, and nothing is guessed", () => {
    const urls = resolvePublicUrls({ host: "127.0.0.1", ...ports, interfaces: LAN });
    expect(urls).toMatchObject({
      cloudUrl: "http://127.0.0.1:3210",
      siteUrl: "http://127.0.0.1:3211",
      localCloudUrl: "http://127.0.0.1:3210",
      warning: null,
    });
  });

  test("--host 0.0.0.0 without --public-url: the LAN address, with a warning that says so", () => {
    const urls = resolvePublicUrls({ host: "0.0.0.0", ...ports, interfaces: LAN });
    expect(urls).toMatchObject({
      cloudUrl: "http://192.168.1.20:3210",
      siteUrl: "http://192.168.1.20:3211",
      localCloudUrl: "http://127.0.0.1:3210",
      localSiteUrl: "http://127.0.0.1:3211",
    });
    expect(urls.warning).toMatch(/LAN address http:\/\/192\.168\.1\.20:3210.*--public-url/);
  });

  test("--host 0.0.0.0 on a machine without a LAN address: loopback, and a warning", () => {
    const urls = resolvePublicUrls({ host: "0.0.0.0", ...ports, interfaces: { lo: LAN.lo } });
    expect(urls.cloudUrl).toBe("http://127.0.0.1:3210");
    expect(urls.warning).toMatch(/no LAN address/);
  });

  test("--public-url wins; the site URL takes its host on the site port unless given", () => {
    const urls = resolvePublicUrls({ host: "0.0.0.0", ...ports, publicUrl: "http://Photos.Example.test:8443/", interfaces: LAN });
    expect(urls).toMatchObject({ cloudUrl: "http://photos.example.test:8443", siteUrl: "http://photos.example.test:3211", warning: null });
    const both = resolvePublicUrls({
      host: "127.0.0.1",
      ...ports,
      publicUrl: "https://api.example.test",
      publicSiteUrl: "https://hooks.example.test",
      interfaces: LAN,
    });
    expect(both).toMatchObject({ cloudUrl: "https://api.example.test", siteUrl: "https://hooks.example.test" });
  });

  test.each([
    ["not a url", undefined, /must be a URL/],
    ["ftp://example.test:21", undefined, /http or https/],
    ["http://example.test:8443/api", undefined, /without a path/],
    ["http://user:pw@example.test:8443", undefined, /without a path/],
    ["https://api.example.test", undefined, /pass --public-site-url too/],
    ["http://example.test:8443", "hooks.example.test", /--public-site-url must be a URL/],
  ])("refuses --public-url %s (site %s) with a clear message", (publicUrl, publicSiteUrl, message) => {
    let thrown: unknown;
    try {
      resolvePublicUrls({ host: "127.0.0.1", ...ports, publicUrl, publicSiteUrl, interfaces: LAN });
    } catch (e) {
      thrown = e;
    }
    expect(isEngineError(thrown, "BadArguments")).toBe(true);
    expect((thrown as Error).message).toMatch(message);
  });
});

describe("an engine with a public URL", () => {
  let running: TestEngine;
  beforeAll(async () => {
    running = await startTestEngine({
      appDir: FILES_APP,
      publicUrl: "http://photos.example.test:8443",
      publicSiteUrl: "http://hooks.example.test:8444",
    });
  });
  afterAll(() => running?.close());

  /** The same path on the address this test can reach. */
  const local = (url: string) => url.replace("http://photos.example.test:8443", running.engine.localCloudUrl);

  test("upload URLs, file URLs and CONVEX_CLOUD_URL / CONVEX_SITE_URL carry the public origin", async () => {
    const client = new ConvexHttpClient(running.engine.localCloudUrl, { logger: false });
    const uploadUrl = await client.mutation(generateUploadUrl, {});
    expect(uploadUrl).toMatch(/^http:\/\/photos\.example\.test:8443\/api\/storage\/upload\?token=/);
    const uploaded = await fetch(local(uploadUrl), { method: "POST", headers: { "Content-Type": "image/png" }, body: new Uint8Array([1, 2, 3]) });
    const { storageId } = (await uploaded.json()) as { storageId: string };
    const { url } = await client.query(describeFile, { storageId });
    expect(url).toBe(`http://photos.example.test:8443/api/storage/${storageId}`);
    expect(new Uint8Array(await (await fetch(local(url!))).arrayBuffer())).toEqual(new Uint8Array([1, 2, 3]));
    expect(await client.query(deploymentUrls, {})).toEqual({ cloud: "http://photos.example.test:8443", site: "http://hooks.example.test:8444" });
    expect(running.engine.cloudUrl).toBe("http://photos.example.test:8443");
    expect(running.engine.localCloudUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  test("requests under the public hosts pass the Host check; other names are still refused", async () => {
    const status = (hostHeader: string) =>
      new Promise<number>((resolve, reject) => {
        const { port } = new URL(running.engine.localCloudUrl);
        const request = httpRequest({ host: "127.0.0.1", port, path: "/version", headers: { Host: hostHeader } }, (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        });
        request.on("error", reject);
        request.end();
      });
    expect(await status("photos.example.test:8443")).toBe(200);
    expect(await status("hooks.example.test:8444")).toBe(200);
    expect(await status("evil.example")).toBe(403);
  });
});

describe("start --public-url", () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), "engine-public-url-"));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  test("the ready line shows the public URLs, a local line where this machine reaches it; CONVEX_CLOUD_ORIGIN works the same", async () => {
    for (const how of ["flag", "env"] as const) {
      const engine = await spawnEngine({
        appDir: FILES_APP,
        dataDir,
        extraArgs: how === "flag" ? ["--public-url", "http://photos.example.test:8443"] : [],
        processEnv: how === "env" ? { CONVEX_CLOUD_ORIGIN: "http://photos.example.test:8443" } : {},
      });
      try {
        expect(engine.output()).toMatch(/^ready: API http:\/\/photos\.example\.test:8443 +site http:\/\/photos\.example\.test:\d+/m);
        // spawnEngine connects through the local line; the CLI's other commands through engine.json.
        expect(engine.cloudUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        expect(JSON.parse(readFileSync(path.join(dataDir, "engine.json"), "utf8")).cloudUrl).toBe(engine.cloudUrl);
        const client = new ConvexHttpClient(engine.cloudUrl, { logger: false });
        expect(await client.mutation(generateUploadUrl, {})).toMatch(/^http:\/\/photos\.example\.test:8443\//);
      } finally {
        await engine.stop();
      }
    }
  });

  test("a malformed --public-url stops the start with the reason", async () => {
    await expect(spawnEngine({ appDir: FILES_APP, dataDir, extraArgs: ["--public-url", "photos.example.test"] })).rejects.toThrow(
      /--public-url must be a URL/,
    );
  });
});
