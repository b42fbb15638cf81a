import { ConvexClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startDevSession, type DevSession } from "../../engine/dev/dev-session";
import { adminClient } from "../support/admin-client";
import { startTestEngine, type TestEngine } from "../support/test-engine";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const FIXTURE = fileURLToPath(new URL("fixtures/basic/convex", import.meta.url));

/**
 * `npm run dev`: edit a function and see the change live, without the client
 * reconnecting; build errors, type errors and refused schema pushes are
 * reported with file and line while the previous code keeps serving.
 */
describe("dev mode", () => {
  let project: string;
  let appDir: string;
  let running: TestEngine;
  let session: DevSession;
  let client: ConvexClient;
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];

  const onLine = (line: string) => {
    lines.push(line);
    for (const w of [...waiters]) {
      if (w.pattern.test(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  /** The next output line matching `pattern` (lines already printed do not count). */
  const nextLine = (pattern: RegExp) => new Promise<string>((resolve) => waiters.push({ pattern, resolve }));
  const edit = (file: string, change: (text: string) => string) => {
    const full = path.join(appDir, file);
    writeFileSync(full, change(readFileSync(full, "utf8")));
  };

  beforeAll(async () => {
    project = mkdtempSync(path.join(tmpdir(), "dev-mode-"));
    appDir = path.join(project, "convex");
    cpSync(FIXTURE, appDir, { recursive: true });
    cpSync(path.join(ROOT, "convex", "tsconfig.json"), path.join(appDir, "tsconfig.json"));
    symlinkSync(path.join(ROOT, "node_modules"), path.join(project, "node_modules"));
    running = await startTestEngine({ appDir, dev: true, bundle: undefined });
    session = startDevSession({ engine: running.engine, appDir, out: { info: onLine, error: onLine } });
    client = new ConvexClient(running.engine.cloudUrl, { logger: false });
  });
  afterAll(async () => {
    await client?.close();
    session?.close();
    await running?.close();
    rmSync(project, { recursive: true, force: true });
  });

  test("an edited function is live at once and the open subscription re-runs on the new code", async () => {
    const admin = adminClient(running.engine.cloudUrl, running.engine.adminKey);
    await admin.mutation(makeFunctionReference<"mutation">("messages:send"), { author: "ada", body: "hello" });
    const seen: unknown[] = [];
    let notify: () => void = () => {};
    client.onUpdate(makeFunctionReference<"query">("messages:byAuthor"), { author: "ada" }, (value) => {
      seen.push(value);
      notify();
    });
    const until = (check: () => boolean) =>
      new Promise<void>((resolve) => {
        notify = () => check() && resolve();
        notify();
      });
    await until(() => seen.length >= 1);
    expect((seen[0] as { body: string }[]).map((m) => m.body)).toEqual(["hello"]);

    const pushed = nextLine(/✔ .*functions ready/);
    edit("messages.ts", (t) =>
      t.replace(
        'ctx.db.query("messages").withIndex("by_author", (q) => q.eq("author", author)).collect(),',
        '(await ctx.db.query("messages").withIndex("by_author", (q) => q.eq("author", author)).collect()).map((m) => ({ ...m, body: m.body.toUpperCase() })),',
      ),
    );
    await pushed;
    await until(() => seen.length >= 2);
    expect((seen.at(-1) as { body: string }[]).map((m) => m.body)).toEqual(["HELLO"]);
    // The official client never reconnected: it saw one connection all along.
    expect(client.connectionState().connectionCount).toBe(1);
  });

  test("a build error is shown with file and line and the previous code keeps serving", async () => {
    const reported = nextLine(/✖/);
    edit("messages.ts", (t) => t + "\nexport const broken = query({ args: {}, handler: async () => { return ( } });\n");
    const line = await reported;
    expect(line).toMatch(/messages\.ts:\d+:\d+: error/);
    const admin = adminClient(running.engine.cloudUrl, running.engine.adminKey);
    expect(await admin.query(makeFunctionReference<"query">("messages:list"), {})).toHaveLength(1);
    const fixed = nextLine(/✔ .*functions ready/);
    edit("messages.ts", (t) => t.slice(0, t.indexOf("\nexport const broken")));
    await fixed;
  });

  test("a type error is reported with file and line", async () => {
    const reported = nextLine(/type error/);
    edit("messages.ts", (t) => t + '\nexport const typed = query({ args: {}, handler: async () => { const n: number = "x"; return n; } });\n');
    expect(await reported).toMatch(/messages\.ts:\d+:\d+: TS2322/);
    const fixed = nextLine(/✔ types OK/);
    edit("messages.ts", (t) => t.slice(0, t.indexOf("\nexport const typed")));
    await fixed;
  }, 60_000);

  test("a schema the documents do not match is refused with table and id; a new index is built", async () => {
    const refused = nextLine(/schema push refused/);
    edit("schema.ts", (t) => t.replace("body: v.string()", "body: v.number()"));
    const message = await refused;
    expect(message).toMatch(/messages/);
    expect(message).toMatch(/j[0-9a-z]{31}/);
    const restored = nextLine(/✔ .*functions ready/);
    edit("schema.ts", (t) => t.replace("body: v.number()", "body: v.string()").replace('.index("by_author", ["author"])', '.index("by_author", ["author"]).index("by_body", ["body"])'));
    await restored;
    expect(running.engine.store.listIndexes("messages").map((i) => i.name)).toContain("messages.by_body");
  });
});
