import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type BrowserContext, type Page } from "playwright-core";

/** Debian's chromium; playwright never downloads a browser of its own here. */
export const CHROMIUM = "/usr/bin/chromium";

/** Where a test run's screenshots go (gitignored with the rest of test-results/). */
export const SCREENSHOT_DIR = fileURLToPath(new URL("../../../test-results/screenshots/", import.meta.url));

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A headless browser with a fresh profile (removed on close) and one page. */
export interface TestBrowser {
  page: Page;
  context: BrowserContext;
  /** Saves a full-window screenshot as `test-results/screenshots/<name>.png`. */
  screenshot(name: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Launches chromium headless; throws with the fix when it is not installed.
 * `args` adds command-line switches (e.g. `--host-resolver-rules` to give a
 * test host name an address).
 */
export async function launchChromium(options: { args?: string[] } = {}): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: run scripts/ensure-chromium.sh (apt-get install -y chromium).`);
  }
  const profile = mkdtempSync(path.join(tmpdir(), "dashboard-chromium-"));
  // A persistent context is how playwright takes a --user-data-dir: a fresh folder per run.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...ARGS, ...(options.args ?? [])],
    viewport: { width: 1360, height: 820 },
    colorScheme: "light",
    locale: "en-US",
    timezoneId: "UTC",
  });
  // Shorter than vitest's test timeout, so a stuck step fails with playwright's own account of it.
  context.setDefaultTimeout(10_000);
  const page = context.pages()[0] ?? (await context.newPage());
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return {
    page,
    context,
    async screenshot(name) {
      await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`) });
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
