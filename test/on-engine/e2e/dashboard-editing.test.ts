import { ConvexHttpClient } from "convex/browser";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { api, internal } from "../../../convex/_generated/api";
import { generatePhoto } from "../../../scripts/seed/generated-photo";
import { adminClient } from "../../../packages/engine/test/support/admin-client";
import { startTestEngine, type TestEngine } from "../../support/app-engine";
import { launchChromium, type TestBrowser } from "../../../packages/engine/test/e2e/support/chromium";
import { seedInstagram, type SeededApp } from "./support/instagram-seed";

/**
 * The dashboard as a live tool on the Instagram app, in headless Chromium:
 * tables, documents and logs follow the data without a refresh; documents
 * are added, edited and deleted (the schema checks them), filtered and
 * sorted; the schema and its indexes are shown; a scheduled job is
 * cancelled; files are uploaded, downloaded and deleted. Screenshots land in
 * test-results/screenshots/ (20-…).
 */
describe("the dashboard, live and editing", () => {
  let running: TestEngine;
  let seeded: SeededApp;
  let browser: TestBrowser;
  let page: Page;
  const admin = () => adminClient(running.engine.cloudUrl, running.engine.adminKey);
  const grid = () => page.getByRole("table", { name: "Documents" });
  const rows = () => grid().locator("tbody tr[data-key]");
  const usernameColumn = async () => (await grid().locator("thead th").allTextContents()).indexOf("username");

  beforeAll(async () => {
    running = await startTestEngine();
    seeded = await seedInstagram(running.engine, running.dataDir);
    browser = await launchChromium();
    page = browser.page;
    await page.goto(`${running.engine.cloudUrl}/dashboard#/data/users`);
    await page.getByLabel("Admin key").fill(running.engine.adminKey);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("Live: updates as data changes").waitFor();
  });
  afterAll(async () => {
    await browser?.close();
    await running?.close();
  });

  test("a user created elsewhere appears in the table and its count at once; an open document follows its edits", async () => {
    await rows().nth(2).waitFor();
    const tables = page.getByRole("navigation", { name: "Tables" });
    await tables.getByRole("link", { name: /users\s*3/ }).waitFor();

    await admin().mutation(internal.users.createUser, { clerkId: "user_dana", username: "dana", fullname: "Dana Live" });
    await tables.getByRole("link", { name: /users\s*4/ }).waitFor();
    await expect.poll(() => rows().first().textContent()).toContain("user_dana");
    await page.getByText("4 documents").waitFor();

    const ada = seeded.users.find((u) => u.name === "ada")!;
    await page.goto(`${running.engine.cloudUrl}/dashboard#/data/users/${ada.id}`);
    const panel = page.getByRole("complementary", { name: `users ${ada.id}` });
    await panel.getByText('"user_ada"').waitFor();
    const client = new ConvexHttpClient(running.engine.cloudUrl, { logger: false });
    client.setAuth(await running.engine.mintDevToken({ subject: "user_ada" }));
    await client.mutation(api.users.updateProfile, { fullname: "Ada Live", bio: "edited in another tab" });
    await panel.getByText('"edited in another tab"').waitFor();
    // A timestamp's date comment follows the comma, never swallows it.
    const text = (await panel.locator(".value-view").textContent())!;
    const lines = text.split("\n");
    const dated = lines.filter((l) => /\s\/\/ \d{4}-/.test(l));
    expect(dated.length).toBeGreaterThan(0);
    expect(dated.filter((l) => /\/\/.*,\s*$/.test(l))).toEqual([]);
    expect(text).toMatch(/_creationTime: [\d.]+,?\s+\/\/ \d{4}-\d\d-\d\d/);
    await browser.screenshot("20-live-document");
  });

  test("adds a document the schema refuses, shows why, then accepts it fixed; edits it; deletes it", async () => {
    await page.goto(`${running.engine.cloudUrl}/dashboard#/data/bookmarks`);
    await page.getByRole("heading", { name: "bookmarks" }).waitFor();
    await page.getByRole("button", { name: "Add document" }).click();
    const editor = page.getByRole("complementary", { name: "New document in bookmarks" });
    const json = editor.getByLabel("Fields (Convex JSON)");
    // The template follows the schema: every required field, empty.
    expect(JSON.parse(await json.inputValue())).toEqual({ postId: "", userId: "" });
    await json.fill(JSON.stringify({ userId: seeded.users[0]!.id, postId: "not an id" }));
    await editor.getByRole("button", { name: "Add document" }).click();
    await editor.getByRole("alert").getByText(/does not match the schema/).waitFor();
    await browser.screenshot("21-add-refused");

    const posts = (await admin().query(api.posts.getGlobalFeed, { paginationOpts: { numItems: 5, cursor: null } })).page;
    await json.fill(JSON.stringify({ userId: seeded.users[0]!.id, postId: posts[0]!._id }));
    await json.press("Control+Enter");
    await expect.poll(() => page.url()).toMatch(/#\/data\/bookmarks\/[0-9a-z]+$/);
    const id = page.url().split("/").at(-1)!;
    const panel = page.getByRole("complementary", { name: `bookmarks ${id}` });
    await panel.waitFor();
    await rows().first().waitFor();
    expect(await rows().count()).toBe(1);

    await panel.getByRole("button", { name: "Edit" }).click();
    const edit = page.getByRole("complementary", { name: `Edit ${id}` });
    await edit.getByLabel("Fields (Convex JSON)").fill(JSON.stringify({ userId: seeded.users[1]!.id, postId: posts[0]!._id }));
    await edit.getByRole("button", { name: "Save" }).click();
    await page.getByRole("complementary", { name: `bookmarks ${id}` }).getByRole("link", { name: seeded.users[1]!.id }).waitFor();

    await page.getByRole("complementary", { name: `bookmarks ${id}` }).getByRole("button", { name: "Delete", exact: true }).click();
    await page.getByRole("button", { name: "Delete document" }).click();
    await page.getByText("No documents.").waitFor();
    expect(running.engine.store.count("bookmarks")).toBe(0);
  });

  test("filters by field and sorts by an index", async () => {
    await page.goto(`${running.engine.cloudUrl}/dashboard#/data/users`);
    await rows().nth(3).waitFor();
    await page.getByLabel("Sort by").selectOption("by_username");
    await page.getByRole("button", { name: "Descending ↓" }).click();
    const usernames = async () => Promise.all((await rows().all()).map(async (row) => /"?(\w+)"?/.exec((await row.locator("td").nth(await usernameColumn()).textContent()) ?? "")?.[1]));
    await expect.poll(usernames).toEqual(["ada", "ben", "cleo", "dana"]);

    await page.getByLabel("Filter", { exact: true }).fill("username");
    await page.getByLabel("Filter operator").selectOption("gte");
    await page.getByLabel("Filter value").fill('"c"');
    await page.getByRole("button", { name: "Add filter" }).click();
    await expect.poll(usernames).toEqual(["cleo", "dana"]);
    await page.getByText("1–2").waitFor();
    await browser.screenshot("22-filter-sort");
    await page.getByRole("button", { name: "Remove filter username" }).click();
    await rows().nth(3).waitFor();
  });

  test("a wrong id in Go to id is said under the box, and gone once the view changes", async () => {
    const box = page.getByLabel("Go to a document by id");
    await box.fill("nope");
    await box.press("Enter");
    const error = page.locator(".go-to-error");
    await error.getByText('"nope" is not a document id.').waitFor();
    const pager = await page.locator(".page-controls").boundingBox();
    const shown = await error.boundingBox();
    expect(shown!.y + shown!.height <= pager!.y || shown!.y >= pager!.y + pager!.height).toBe(true);
    await page.keyboard.press("Escape");
    await page.keyboard.press("2");
    await page.getByRole("table", { name: "Stored files" }).waitFor();
    expect(await page.getByText('"nope" is not a document id.').count()).toBe(0);
    await page.keyboard.press("1");
    await rows().first().waitFor();
    expect(await page.getByText('"nope" is not a document id.').count()).toBe(0);
  });

  test("shows the schema and its indexes", async () => {
    await page.keyboard.press("7");
    const users = page.getByRole("article", { name: "Table users" });
    await users.waitFor();
    expect(await users.locator(".schema-type").textContent()).toMatch(/clerkId: string/);
    expect(await users.locator('tr[data-index="by_clerk_id"]').textContent()).toContain("clerkId, _creationTime, _id");
    expect(await users.locator('tr[data-index="by_creation_time"]').textContent()).toContain("built in");
    await browser.screenshot("23-schema");
  });

  test("cancels a pending scheduled job; its state follows", async () => {
    await page.keyboard.press("5");
    const job = page.getByRole("table", { name: "Scheduled functions" }).locator("tbody tr[data-key]", { hasText: "uploads:expireTicket" }).first();
    await job.waitFor();
    expect(await job.textContent()).toContain("pending");
    expect(await page.getByText("uploads.js:").count()).toBe(0);
    await job.click();
    await page.getByRole("button", { name: "Cancel job" }).click();
    await page.getByText("Canceled the job.").waitFor();
    await expect.poll(() => job.textContent()).toContain("canceled");
    await browser.screenshot("24-job-canceled");
  });

  test("uploads a file, downloads it, deletes it", async () => {
    await page.keyboard.press("2");
    const files = page.getByRole("table", { name: "Stored files" });
    await files.locator("tbody tr[data-key]").nth(2).waitFor();
    const photo = Buffer.from(generatePhoto(21, 96));
    await page.locator("#file-upload").setInputFiles({ name: "sunrise.png", mimeType: "image/png", buffer: photo });
    await page.getByText("Uploaded sunrise.png.").waitFor();
    await expect.poll(() => page.url()).toMatch(/#\/files\/[0-9a-z]+$/);
    const id = page.url().split("/").at(-1)!;
    const panel = page.getByRole("complementary", { name: `File ${id}` });
    await expect.poll(() => panel.getByRole("img", { name: `Preview of ${id}` }).evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(96);
    await files.locator(`tr[data-key="${id}"]`).waitFor();

    const download = panel.getByRole("link", { name: "Download" });
    expect(await download.getAttribute("download")).toBe(`${id}.png`);
    const bytes = Buffer.from(await (await fetch(new URL((await download.getAttribute("href"))!, running.engine.cloudUrl))).arrayBuffer());
    expect(bytes.equals(photo)).toBe(true);
    await browser.screenshot("25-file-uploaded");

    await panel.getByRole("button", { name: `Delete file ${id}` }).click();
    await panel.getByRole("button", { name: "Delete", exact: true }).click();
    await page.getByText("Deleted the file.").waitFor();
    await files.locator(`tr[data-key="${id}"]`).waitFor({ state: "detached" });
    expect(running.engine.store.get(id)).toBeNull();
    expect((await fetch(`${running.engine.cloudUrl}/api/storage/${id}`)).status).toBe(404);
  });

  test("logs keep more than 200 calls, show who called, and filter by function and status", async () => {
    const client = new ConvexHttpClient(running.engine.cloudUrl, { logger: false });
    client.setAuth(await running.engine.mintDevToken({ subject: "user_ben", name: "Ben Example" }));
    for (let i = 0; i < 220; i++) await client.query(api.users.getCurrentUser, {});
    await client.mutation(api.comments.addComment, { postId: "not-an-id" as never, content: "x" }).catch(() => undefined);

    await page.keyboard.press("4");
    const calls = page.getByRole("table", { name: "Recent function calls" });
    await expect.poll(async () => Number(/(\d+) recent calls/.exec((await page.locator(".view-subtitle").textContent()) ?? "")?.[1] ?? 0)).toBeGreaterThan(220);
    const mine = calls.locator("tbody tr", { hasText: "users:getCurrentUser" }).first();
    expect(await mine.textContent()).toMatch(/users:getCurrentUser\s*query\s*client · user_ben \(Ben Example\)\s*success/);

    await page.getByLabel("Filter calls by status").selectOption("error");
    await calls.locator("tbody tr", { hasText: "comments:addComment" }).first().waitFor();
    expect(await calls.locator("tbody tr", { hasText: "users:getCurrentUser" }).count()).toBe(0);
    await page.getByLabel("Filter calls by status").selectOption("");
    await page.getByLabel("Filter calls by function").fill("addComment");
    await expect.poll(() => calls.locator("tbody tr").count()).toBeLessThan(5);
    await browser.screenshot("26-logs-filtered");

    // Live: a call made now shows up without a refresh.
    await page.getByLabel("Filter calls by function").fill("toggleBookmark");
    const posts = (await client.query(api.posts.getGlobalFeed, { paginationOpts: { numItems: 1, cursor: null } })).page;
    await client.mutation(api.bookmarks.toggleBookmark, { postId: posts[0]!._id });
    await calls.locator("tbody tr", { hasText: "bookmarks:toggleBookmark" }).first().waitFor();
  });

  test("a paginated function's arguments start with a page of ten", async () => {
    await page.goto(`${running.engine.cloudUrl}/dashboard#/functions/${encodeURIComponent("posts:getGlobalFeed")}`);
    await page.getByRole("heading", { name: "posts:getGlobalFeed" }).waitFor();
    expect(JSON.parse(await page.getByLabel("Arguments (JSON)").inputValue())).toEqual({ paginationOpts: { numItems: 10, cursor: null } });
  });
});
