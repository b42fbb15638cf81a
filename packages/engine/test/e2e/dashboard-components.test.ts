import { ConvexHttpClient } from "convex/browser";
import type { Page } from "playwright-core";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { api } from "../fixtures/components/convex/_generated/api";
import { startTestEngine, type TestEngine } from "../support/test-engine";
import { launchChromium, type TestBrowser } from "./support/chromium";

const APP = fileURLToPath(new URL("../fixtures/components/convex", import.meta.url));

/** The dashboard on an app with components: their tables listed under each component, their functions runnable. */
describe("the dashboard on an app with components", () => {
  let running: TestEngine;
  let browser: TestBrowser;
  let page: Page;

  beforeAll(async () => {
    running = await startTestEngine({ appDir: APP });
    const client = new ConvexHttpClient(running.engine.cloudUrl, { logger: false });
    for (let i = 0; i < 3; i += 1) await client.mutation(api.counter.inc, { name: "visits" });
    await client.mutation(api.probe.crossReads, {});
    browser = await launchChromium();
    page = browser.page;
  });
  afterAll(async () => {
    await browser?.close();
    await running?.close();
  });

  test("lists each component's tables under its name and opens them", async () => {
    await page.goto(`${running.engine.cloudUrl}/dashboard`);
    await page.getByLabel("Admin key").fill(running.engine.adminKey);
    await page.getByRole("button", { name: "Sign in" }).click();
    const tables = page.getByRole("navigation", { name: "Tables" });
    await tables.getByRole("heading", { name: "Component shardedCounter" }).waitFor();
    // Three tables named `work`: the app's (one row) under Tables, the probe's and the pool's (empty) under theirs.
    expect(await tables.getByRole("link", { name: /^work\s*1$/ }).count()).toBe(1);
    expect(await tables.getByRole("link", { name: /^work\s*0$/ }).count()).toBe(2);
    await tables.getByRole("link", { name: /^counters/ }).click();
    await expect.poll(() => page.url()).toMatch(/#\/data\/shardedCounter%2Fcounters$/);
    const grid = page.getByRole("table", { name: "Documents" });
    await grid.locator("tbody tr[data-key]").first().waitFor();
    expect(await grid.textContent()).toContain("visits");
    await browser.screenshot("components-01-tables");
  });

  test("runs a component's function with the admin key", async () => {
    await page.keyboard.press("3");
    await page.getByLabel("Filter functions").fill("shardedCounter/public:count");
    await page.getByRole("link", { name: /count/ }).first().click();
    await page.getByRole("heading", { name: "shardedCounter/public:count" }).waitFor();
    await page.getByLabel("Arguments (JSON)").fill('{"name": "visits"}');
    await page.getByRole("button", { name: "Run query" }).click();
    const result = page.locator(".result-card");
    await result.getByText("Success").waitFor();
    expect(await result.locator(".value-view").textContent()).toContain("3");
    await browser.screenshot("components-02-run");
  });
});
