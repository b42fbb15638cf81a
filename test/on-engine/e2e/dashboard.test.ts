import { fileURLToPath } from "node:url";
import { makeFunctionReference } from "convex/server";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { api } from "../../../convex/_generated/api";
import { encodeDocumentId } from "../../../packages/engine/src/values/document-id";
import { adminClient } from "../../../packages/engine/test/support/admin-client";
import { startTestEngine, type TestEngine } from "../../support/app-engine";
import { launchChromium, type TestBrowser } from "../../../packages/engine/test/e2e/support/chromium";
import { seedInstagram, type SeededApp } from "./support/instagram-seed";

/**
 * The dashboard at `<cloud url>/dashboard`, driven in headless Chromium as a
 * person would use it: sign in with the admin key `start` prints, browse
 * tables and documents, look at stored files, run functions as a user, watch
 * recent calls, edit env vars. Screenshots land in test-results/screenshots/.
 */
describe("the dashboard on the Instagram app", () => {
  let running: TestEngine;
  let seeded: SeededApp;
  let browser: TestBrowser;
  let page: Page;
  const requestedUrls: string[] = [];

  beforeAll(async () => {
    running = await startTestEngine();
    seeded = await seedInstagram(running.engine, running.dataDir);
    browser = await launchChromium();
    page = browser.page;
    page.on("request", (request) => requestedUrls.push(request.url()));
  });
  afterAll(async () => {
    await browser?.close();
    await running?.close();
  });

  test("a wrong admin key is refused, by the login screen and by the admin API", async () => {
    await page.goto(`${running.engine.cloudUrl}/dashboard`);
    await expect.poll(() => page.getByRole("heading", { name: "Sign in to the dashboard" }).isVisible()).toBe(true);
    await browser.screenshot("01-login");

    await page.getByLabel("Admin key").fill("local|0000wrong");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("That admin key is not valid for this deployment.").waitFor();

    for (const endpoint of ["tables", "files", "functions", "auth/issuers", "document?id=x"]) {
      const response = await fetch(`${running.engine.cloudUrl}/api/admin/${endpoint}`, { headers: { Authorization: "Convex local|0000wrong" } });
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({ code: "AdminKeyRequired" });
    }
  });

  test("the admin endpoints the dashboard uses answer clear JSON errors", async () => {
    const get = async (endpoint: string) => {
      const response = await fetch(`${running.engine.cloudUrl}/api/admin/${endpoint}`, { headers: { Authorization: `Convex ${running.engine.adminKey}` } });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    expect(await get("document")).toEqual({ status: 400, body: { code: "BadRequest", message: "Add ?id=<document id>." } });
    expect(await get("document?id=not-an-id")).toMatchObject({ status: 400, body: { code: "BadRequest" } });
    // A well-formed id of the users table that no document has.
    const unused = encodeDocumentId(running.engine.store.tableNumber("users")!, new Uint8Array(16));
    expect(await get(`document?id=${unused}`)).toEqual({ status: 404, body: { code: "NotFound", message: `No document has the id ${unused}.` } });
    expect(await get(`document?id=${seeded.storedPhoto}`)).toMatchObject({ status: 200, body: { table: "_storage", document: { _id: seeded.storedPhoto } } });
    expect(await get("auth/issuers")).toEqual({ status: 200, body: { issuers: [running.engine.devIssuer.issuerUrl] } });
    const functions = (await get("functions")).body.functions as { path: string; kind: string; visibility: string }[];
    expect(functions).toContainEqual(expect.objectContaining({ path: "users:createUser", kind: "mutation", visibility: "internal" }));
    const files = (await get("files?limit=2")).body as { files: { _id: string; missing: boolean }[]; nextCursor: string | null; total: number };
    expect(files.files.map((f) => f._id)).toEqual([seeded.orphanUpload, seeded.missingPhoto]);
    expect(files.files.map((f) => f.missing)).toEqual([false, true]);
    // Two posts of three files each (original, display, thumbnail) and the orphan.
    expect(files.total).toBe(7);
    const rest = (await get(`files?limit=10&cursor=${files.nextCursor}`)).body as { files: { _id: string }[]; nextCursor: string | null };
    expect(rest.nextCursor).toBeNull();
    expect(rest.files).toHaveLength(5);
    // Oldest last: Ada's post came first, its original first of all.
    expect(rest.files.at(-1)?._id).toBe(seeded.storedPhoto);
  });

  test("signs in with the admin key and browses tables, newest first, and a document in full", async () => {
    // The whole line `start` printed, pasted as is.
    await page.getByLabel("Admin key").fill(`admin key: ${running.engine.adminKey}`);
    await page.getByRole("button", { name: "Sign in" }).click();
    const tables = page.getByRole("navigation", { name: "Tables" });
    await tables.getByRole("link", { name: /users\s*3/ }).click();
    await expect.poll(() => page.url()).toMatch(/#\/data\/users$/);
    const grid = page.getByRole("table", { name: "Documents" });
    await grid.locator("tbody tr[data-key]").nth(2).waitFor();
    // Newest first: cleo signed up last.
    expect(await grid.locator("tbody tr[data-key]").first().textContent()).toContain("user_cleo");
    expect(await tables.getByRole("link", { name: /_storage\s*7/ }).count()).toBe(1);
    expect(await page.getByText("3 documents").count()).toBe(1);
    await browser.screenshot("02-tables");

    // The keyboard walks the rows and Enter opens one.
    await grid.locator("tbody tr[data-key]").first().focus();
    await page.keyboard.press("j");
    await page.keyboard.press("j");
    await page.keyboard.press("Enter");
    const ada = seeded.users.find((u) => u.name === "ada")!;
    await expect.poll(() => page.url()).toContain(`#/data/users/${ada.id}`);
    const panel = page.getByRole("complementary", { name: `users ${ada.id}` });
    await panel.getByText('"user_ada"').waitFor();
    const text = await panel.locator(".value-view").textContent();
    expect(text).toContain('email: "ada@example.com"');
    // The date comment comes after the field's comma.
    expect(text).toMatch(/_creationTime: \d+(\.\d+)?,\s+\/\/ \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\n/);
    await browser.screenshot("03-document");

    // An id inside a document is a link to that document, in its own table.
    await page.keyboard.press("Escape");
    await expect.poll(() => page.url()).toMatch(/#\/data\/users$/);
    await tables.getByRole("link", { name: /posts\s*2/ }).click();
    await grid.locator("tbody tr[data-key]").nth(1).waitFor();
    await grid.locator("tbody tr[data-key]").filter({ hasText: "Sunset over the hills" }).getByRole("link", { name: ada.id }).click();
    await page.getByRole("complementary", { name: `users ${ada.id}` }).waitFor();
    expect(page.url()).toContain(`#/data/users/${ada.id}`);
  });

  test("lists stored files with size, type and a preview, and says when a file's bytes are missing", async () => {
    await page.keyboard.press("2");
    const grid = page.getByRole("table", { name: "Stored files" });
    await grid.locator("tbody tr[data-key]").nth(2).waitFor();
    const row = (id: string) => grid.locator(`tr[data-key="${id}"]`);
    expect(await row(seeded.storedPhoto).textContent()).toMatch(/image\/png.*\d+(\.\d)? KB.*stored/);
    expect(await row(seeded.missingPhoto).textContent()).toContain("file missing");
    await expect.poll(() => row(seeded.storedPhoto).locator("img").evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(160);

    await row(seeded.storedPhoto).click();
    const panel = page.getByRole("complementary", { name: `File ${seeded.storedPhoto}` });
    const preview = panel.getByRole("img", { name: `Preview of ${seeded.storedPhoto}` });
    await expect.poll(() => preview.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(160);
    expect(await preview.getAttribute("src")).toBe(`/api/storage/${seeded.storedPhoto}`);
    await panel.getByText("image/png").first().waitFor();
    await browser.screenshot("04-files");

    await row(seeded.missingPhoto).click();
    await page.getByRole("complementary", { name: `File ${seeded.missingPhoto}` }).getByText("File missing: the _storage row exists but its bytes are not on disk.").waitFor();
    await browser.screenshot("05-file-missing");
  });

  test("runs a query as a chosen user, an internal mutation, and shows a function's error", async () => {
    await page.keyboard.press("3");
    await page.getByLabel("Filter functions").fill("getCurrentUser");
    await page.getByRole("link", { name: /getCurrentUser/ }).click();
    await page.getByRole("heading", { name: "users:getCurrentUser" }).waitFor();
    await page.getByLabel("Run as", { exact: true }).selectOption({ label: "@ada · Ada Example (user_ada)" });
    expect(await page.getByLabel("Subject", { exact: true }).inputValue()).toBe("user_ada");
    expect(await page.getByLabel("Issuer", { exact: true }).inputValue()).toBe(running.engine.devIssuer.issuerUrl);
    await page.getByRole("button", { name: "Run query" }).click();
    const result = page.locator(".result-card");
    await result.getByText("Success").waitFor();
    expect(await result.textContent()).toContain("ran as @ada");
    expect(await result.locator(".value-view").textContent()).toContain('username: "ada"');
    await browser.screenshot("06-run-as-user");

    // Without an identity the app refuses, and the error and its data show.
    await page.getByLabel("Filter functions").fill("updateProfile");
    await page.getByRole("link", { name: /updateProfile/ }).click();
    await page.getByRole("heading", { name: "users:updateProfile" }).waitFor();
    await page.getByLabel("Run as", { exact: true }).selectOption("none");
    await page.getByLabel("Arguments (JSON)").fill('{"fullname": "Nobody"}');
    await page.getByLabel("Arguments (JSON)").press("Control+Enter");
    await result.getByText("Error", { exact: true }).waitFor();
    expect(await result.textContent()).toContain("UNAUTHENTICATED");

    // Internal functions run too: the admin key may call them.
    await page.getByLabel("Filter functions").fill("createUser");
    await page.getByRole("link", { name: /createUser/ }).click();
    await page.getByRole("heading", { name: "users:createUser" }).waitFor();
    expect(await page.locator(".runner-heading .badge").allTextContents()).toEqual(["mutation", "internal"]);
    await page.getByLabel("Arguments (JSON)").fill('{"clerkId": "user_dana", "username": "dana"}');
    await page.getByRole("button", { name: "Run mutation" }).click();
    await result.getByText("Success").waitFor();
    const dana = await adminClient(running.engine.cloudUrl, running.engine.adminKey).query(api.users.getUserByClerkId, { clerkId: "user_dana" });
    expect(dana).toMatchObject({ username: "dana" });
  });

  test("shows the runs among the recent calls, with kind, status and duration", async () => {
    await page.keyboard.press("4");
    const calls = page.getByRole("table", { name: "Recent function calls" });
    const run = calls.locator("tbody tr", { hasText: "users:getCurrentUser" }).first();
    await run.waitFor();
    // The caller: the admin key, acting as the user picked in Functions. The duration reads in seconds when
    // it took that long (an engine's first query also starts its query worker).
    expect(await run.textContent()).toMatch(/users:getCurrentUser\s*query\s*admin · as user_ada \(Ada Example\)\s*success\s*(\d+ ms|\d+(\.\d+)? s)/);
    const failed = calls.locator("tbody tr", { hasText: "users:updateProfile" }).first();
    expect(await failed.textContent()).toContain("error");
    await failed.click();
    await calls.locator(".detail-row .error-text", { hasText: "UNAUTHENTICATED" }).waitFor();
    await browser.screenshot("07-logs");
  });

  test("lists scheduled functions with their state", async () => {
    await page.keyboard.press("5");
    const grid = page.getByRole("table", { name: "Scheduled functions" });
    // Named as the app's code and the Logs name functions (`uploads:expireTicket`, not `uploads.js:…`).
    const job = grid.locator("tbody tr[data-key]", { hasText: "uploads:expireTicket" }).first();
    await job.waitFor();
    expect(await job.textContent()).toContain("pending");
    await browser.screenshot("08-schedules");
  });

  test("sets and removes a deployment env var", async () => {
    await page.keyboard.press("6");
    await page.getByLabel("Name", { exact: true }).fill("GREETING");
    await page.getByLabel("Value", { exact: true }).fill("hello from the dashboard");
    await page.getByRole("button", { name: "Save" }).click();
    const row = page.locator('tr[data-name="GREETING"]');
    await row.waitFor();
    expect(await row.textContent()).toContain("••••");
    expect(running.engine.app.env.list()).toMatchObject({ GREETING: "hello from the dashboard" });
    await page.getByLabel("Show values").check();
    await row.getByText("hello from the dashboard").waitFor();
    await browser.screenshot("09-env");

    await row.getByRole("button", { name: "Remove GREETING" }).click();
    await row.getByRole("button", { name: "Remove", exact: true }).click();
    await row.waitFor({ state: "detached" });
    expect(running.engine.app.env.list()).not.toHaveProperty("GREETING");
  });

  test("the key lives in sessionStorage, never in a URL, and signing out forgets it", async () => {
    expect(await page.evaluate(() => Object.values(sessionStorage))).toContain(running.engine.adminKey);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    expect(requestedUrls.length).toBeGreaterThan(10);
    expect(requestedUrls.filter((url) => url.includes(running.engine.adminKey.slice(6)))).toEqual([]);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in to the dashboard" }).waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);

    // A remembered key that the engine no longer accepts (another data folder) is dropped and asked for again.
    await page.evaluate(() => localStorage.setItem("convex-local-dashboard.adminKey", "local|from-another-data-folder"));
    await page.reload();
    await page.getByText("The engine refused the saved admin key").waitFor();
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
  });
});

describe("the dashboard on values and logs", () => {
  let running: TestEngine;
  let browser: TestBrowser;

  const insert = makeFunctionReference<"mutation", { label: string; value: unknown }, string>("samples:insert");

  beforeAll(async () => {
    running = await startTestEngine({ appDir: fileURLToPath(new URL("../../../packages/engine/test/e2e/fixtures/values-and-logs/convex", import.meta.url)) });
    const admin = adminClient(running.engine.cloudUrl, running.engine.adminKey);
    // 54 plain samples, then the one with every kind of value: newest, so first in the default order.
    for (let i = 1; i <= 54; i++) await admin.mutation(insert, { label: `sample ${i}`, value: i });
    await admin.mutation(insert, {
      label: "kinds",
      value: { big: 2n ** 40n, bytes: new Uint8Array([1, 2, 254]).buffer, nan: NaN, list: [1, "two", null] },
    });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await running?.close();
  });

  test("renders int64s, bytes and special floats readably, and shows a run's log lines here and in Logs", async () => {
    const { page } = browser;
    await page.goto(`${running.engine.cloudUrl}/dashboard#/data/samples`);
    await page.getByLabel("Admin key").fill(running.engine.adminKey);
    await page.getByRole("button", { name: "Sign in" }).click();
    const grid = page.getByRole("table", { name: "Documents" });
    await grid.locator("tbody tr[data-key]").first().click();
    const value = await page.locator(".side-panel .value-view").textContent();
    expect(value).toContain("big: 1099511627776n");
    expect(value).toContain("bytes: Bytes(3) <01 02 fe>");
    expect(value).toContain("nan: NaN");
    expect(value).toMatch(/list: \[\s*1,\s*"two",\s*null\s*\]/);
    await browser.screenshot("10-values");
    await page.emulateMedia({ colorScheme: "dark" });
    await browser.screenshot("12-values-dark");
    await page.emulateMedia({ colorScheme: "light" });
    await page.keyboard.press("Escape");

    await page.goto(`${running.engine.cloudUrl}/dashboard#/functions/${encodeURIComponent("samples:noisy")}`);
    await page.getByRole("heading", { name: "samples:noisy" }).waitFor();
    expect(await page.getByLabel("Arguments (JSON)").inputValue()).toBe('{\n  "times": 0\n}');
    await page.getByLabel("Arguments (JSON)").fill('{"times": 2}');
    await page.getByLabel("Run as", { exact: true }).selectOption("custom");
    await page.getByLabel("Subject", { exact: true }).fill("someone-else");
    await page.getByRole("button", { name: "Run query" }).click();
    const result = page.locator(".result-card");
    await result.getByText("Success").waitFor();
    expect(await result.locator(".value-view").textContent()).toMatch(/caller: "someone-else",\s*count: 2n/);
    expect(await result.locator(".log-lines").textContent()).toMatch(/line 1 of 2[\s\S]*line 2 of 2[\s\S]*careful: this query is noisy/);
    await browser.screenshot("11-run-logs");

    await page.keyboard.press("4");
    const row = page.getByRole("table", { name: "Recent function calls" }).locator("tbody tr", { hasText: "samples:noisy" }).first();
    await row.waitFor();
    await row.press("Enter");
    await page.locator(".detail-row .log-lines", { hasText: "careful: this query is noisy" }).waitFor();
  });

  test("pages through a table fifty at a time, in either order", async () => {
    const { page } = browser;
    await page.goto(`${running.engine.cloudUrl}/dashboard#/data/samples`);
    const grid = page.getByRole("table", { name: "Documents" });
    const range = page.locator(".page-range");
    await page.getByText("1–50 of 55").waitFor();
    expect(await grid.locator("tbody tr[data-key]").count()).toBe(50);
    expect(await grid.locator("tbody tr[data-key]").first().textContent()).toContain("kinds");
    await page.getByRole("button", { name: "Next page" }).click();
    await page.getByText("51–55 of 55").waitFor();
    expect(await grid.locator("tbody tr[data-key]").count()).toBe(5);
    expect(await grid.locator("tbody tr[data-key]").last().textContent()).toContain("sample 1");
    expect(await page.getByRole("button", { name: "Next page" }).isDisabled()).toBe(true);
    await page.getByRole("button", { name: "Previous page" }).click();
    await page.getByText("1–50 of 55").waitFor();

    await page.getByRole("button", { name: "Newest first ↓" }).click();
    await page.getByRole("button", { name: "Oldest first ↑" }).waitFor();
    await expect.poll(() => grid.locator("tbody tr[data-key]").first().textContent()).toContain("sample 1");
    expect(await range.textContent()).toBe("1–50 of 55");
    await browser.screenshot("13-paging");
  });
});
