import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestEngine, type TestEngine } from "../support/test-engine";
import { launchChromium, type TestBrowser } from "./support/chromium";

const APP = fileURLToPath(new URL("../fixtures/http-app/convex", import.meta.url));

/**
 * The attack table's browser rows, in a real Chromium: a page the developer
 * opens on another origin, the same page after DNS rebinding, and a page an
 * HTTP action serves, each trying to reach what the engine keeps for its
 * owner (dev tokens, the admin key the dashboard stores).
 */
describe("attack table: a browser on the developer's machine", () => {
  let running: TestEngine;
  let browser: TestBrowser;
  let evil: Server;
  let evilUrl: string;

  beforeAll(async () => {
    running = await startTestEngine({ appDir: APP, dev: true });
    evil = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<!doctype html><title>a page on the web</title>");
    });
    await new Promise<void>((resolve) => evil.listen(0, "127.0.0.1", resolve));
    evilUrl = `http://127.0.0.1:${(evil.address() as AddressInfo).port}`;
    // evil.test resolves to loopback, as a rebinding DNS server makes it do.
    browser = await launchChromium({ args: ["--host-resolver-rules=MAP evil.test 127.0.0.1", "--disable-features=HttpsUpgrades"] });
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => evil?.close(resolve));
    await running?.close();
  });

  /** Runs `fetch(url, init)` in the page and says what the page could read. */
  const fetchInPage = (url: string, init: { method: string; body?: string; headers?: Record<string, string> }) =>
    browser.page.evaluate(
      async ([target, options]) => {
        try {
          const response = await fetch(target, options);
          return `read ${response.status}: ${await response.text()}`;
        } catch (e) {
          return `blocked: ${(e as Error).message}`;
        }
      },
      [url, init] as const,
    );

  test("a page on another origin cannot mint a dev token or read the admin API", async () => {
    await browser.page.goto(evilUrl);
    const mint = await fetchInPage(`${running.engine.cloudUrl}/api/dev/token`, { method: "POST", body: JSON.stringify({ subject: "user_victim" }) });
    expect(mint).toMatch(/^blocked/);
    const admin = await fetchInPage(`${running.engine.cloudUrl}/api/admin/env`, { method: "GET" });
    expect(admin).toMatch(/^blocked/);
    // The function API stays readable from other origins: that is how the app's own page calls it
    // (this app has no public query, so the answer is a function error, read all the same).
    const query = await fetchInPage(`${running.engine.cloudUrl}/api/query`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ path: "notes:count", args: [{}] }),
    });
    expect(query).toMatch(/^read 200: \{"status":"error","errorMessage":"Could not find public function/);
  });

  test("after DNS rebinding (evil.test → 127.0.0.1) the engine answers nothing under that name", async () => {
    const port = new URL(running.engine.cloudUrl).port;
    const response = await browser.page.goto(`http://evil.test:${port}/dashboard`);
    expect(response?.status()).toBe(403);
    expect(await response?.text()).toMatch(/does not serve the host "evil\.test"/);
    // Same origin as the engine now, as far as the browser knows; still refused.
    const mint = await fetchInPage("/api/dev/token", { method: "POST", body: JSON.stringify({ subject: "user_victim" }) });
    expect(mint).toMatch(/^read 403: Blocked request/);
    const sitePort = new URL(running.engine.siteUrl).port;
    expect((await browser.page.goto(`http://evil.test:${sitePort}/page`))?.status()).toBe(403);
  });

  test("a page an HTTP action serves cannot read the admin key the dashboard keeps", async () => {
    const { page } = browser;
    await page.goto(`${running.engine.cloudUrl}/dashboard`);
    await page.getByLabel("Admin key").fill(running.engine.adminKey);
    await page.getByLabel("Remember on this browser").check();
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("navigation", { name: "Tables" }).waitFor();
    const kept = await page.evaluate(() => Object.values({ ...localStorage }).join(" "));
    expect(kept).toContain(running.engine.adminKey);

    // HTTP actions live on the site origin, whose storage is its own.
    await page.goto(`${running.engine.siteUrl}/page`);
    await expect.poll(() => page.title()).toBe("storage: empty");
    // And nothing of theirs is served on the dashboard's origin.
    const onApiOrigin = await page.goto(`${running.engine.cloudUrl}/http/page`);
    expect(onApiOrigin?.status()).toBe(404);
    expect(await page.title()).not.toMatch(/storage/);
  });
});
