import { ConvexClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startDevSession, type DevSession } from "../src/dev/dev-session";
import { isAppSource } from "../src/dev/folder-watcher";
import { adminClient } from "./support/admin-client";
import { startTestEngine, type TestEngine } from "./support/test-engine";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const FIXTURE = fileURLToPath(new URL("fixtures/basic/convex", import.meta.url));
const version = makeFunctionReference<"query", Record<string, never>, string>("version:get");
const VERSION_MODULE = (v: string) =>
  `import { queryGeneric } from "convex/server";\nexport const get = queryGeneric({ args: {}, handler: async () => ${JSON.stringify(v)} });\n`;

/**
 * `npm run dev`: edit a function and see the change live, without the client
 * reconnecting. Saves are noticed however the file is written (in place,
 * replaced by `sed -i` or an editor's rename, by `git checkout`), each once,
 * under the file's real name. Nothing that fails to build or type-check is
 * pushed; build errors, type errors and refused schema pushes are reported
 * with file and line while the previous code keeps serving.
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
  const nextPush = () => nextLine(/^✔ /);
  const edit = (file: string, change: (text: string) => string) => {
    const full = path.join(appDir, file);
    writeFileSync(full, change(readFileSync(full, "utf8")));
  };
  const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=dev", "-c", "user.email=dev@example.com", ...args], { cwd: project, stdio: "pipe" });
  const admin = () => adminClient(running.engine.cloudUrl, running.engine.adminKey);
  /** Pushes announced (✔ lines) from output line `from` on. */
  const pushesSince = (from: number) => lines.slice(from).filter((l) => l.startsWith("✔ "));

  beforeAll(async () => {
    project = mkdtempSync(path.join(tmpdir(), "dev-mode-"));
    appDir = path.join(project, "convex");
    cpSync(FIXTURE, appDir, { recursive: true });
    writeFileSync(path.join(appDir, "version.ts"), VERSION_MODULE("v1"));
    cpSync(path.join(ROOT, "convex", "tsconfig.json"), path.join(appDir, "tsconfig.json"));
    symlinkSync(path.join(ROOT, "node_modules"), path.join(project, "node_modules"));
    writeFileSync(path.join(project, ".gitignore"), "node_modules\n");
    git("init", "-q", "-b", "main");
    git("add", ".");
    git("commit", "-q", "-m", "app");
    running = await startTestEngine({ appDir, dev: true, bundle: undefined });
    const first = nextPush();
    session = startDevSession({ appDir, out: { info: onLine, error: onLine }, push: (bundle) => running.engine.reload(bundle) });
    await first;
    client = new ConvexClient(running.engine.cloudUrl, { logger: false });
  }, 60_000);
  afterAll(async () => {
    await client?.close();
    await session?.close();
    await running?.close();
    rmSync(project, { recursive: true, force: true });
  });

  test("the first push is type-checked and announced", () => {
    expect(lines).toContainEqual(expect.stringMatching(/^✔ initial push: \d+ functions ready in \d+ ms, types OK$/));
  });

  test("an edited function is live at once and the open subscription re-runs on the new code", async () => {
    await admin().mutation(makeFunctionReference<"mutation">("messages:send"), { author: "ada", body: "hello" });
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

    const pushed = nextPush();
    edit("messages.ts", (t) =>
      t.replace(
        'ctx.db.query("messages").withIndex("by_author", (q) => q.eq("author", author)).collect(),',
        '(await ctx.db.query("messages").withIndex("by_author", (q) => q.eq("author", author)).collect()).map((m) => ({ ...m, body: m.body.toUpperCase() })),',
      ),
    );
    expect(await pushed).toMatch(/^✔ messages\.ts changed: /);
    await until(() => seen.length >= 2);
    expect((seen.at(-1) as { body: string }[]).map((m) => m.body)).toEqual(["HELLO"]);
    // The official client never reconnected: it saw one connection all along.
    expect(client.connectionState().connectionCount).toBe(1);
  }, 60_000);

  test("a file replaced by `sed -i` is announced under its own name, and its later saves are still seen", async () => {
    const from = lines.length;
    let pushed = nextPush();
    execFileSync("sed", ["-i", "s/v1/v2/", path.join(appDir, "version.ts")]);
    expect(await pushed).toMatch(/^✔ version\.ts changed: /);
    expect(await admin().query(version, {})).toBe("v2");

    // Node 20's recursive fs.watch lost the file here: it watched the inode sed replaced.
    pushed = nextPush();
    edit("version.ts", (t) => t.replace("v2", "v3"));
    expect(await pushed).toMatch(/^✔ version\.ts changed: /);
    expect(await admin().query(version, {})).toBe("v3");
    // One push per save, and sed's temporary file was never mentioned.
    expect(pushesSince(from)).toHaveLength(2);
    expect(lines.slice(from).join("\n")).not.toMatch(/sed[A-Za-z0-9]{6}/);
  }, 60_000);

  test("an editor's atomic save (write a temporary file, rename it over) is one push of the real file", async () => {
    const from = lines.length;
    const pushed = nextPush();
    const temp = path.join(appDir, ".version.ts.swp");
    writeFileSync(temp, VERSION_MODULE("v4"));
    writeFileSync(path.join(appDir, "version.ts~"), VERSION_MODULE("backup"));
    renameSync(temp, path.join(appDir, "version.ts"));
    expect(await pushed).toMatch(/^✔ version\.ts changed: /);
    expect(await admin().query(version, {})).toBe("v4");
    const next = nextPush();
    edit("version.ts", (t) => t.replace("v4", "v5"));
    await next;
    expect(await admin().query(version, {})).toBe("v5");
    expect(pushesSince(from)).toHaveLength(2);
    expect(lines.slice(from).join("\n")).not.toMatch(/swp|version\.ts~/);
    rmSync(path.join(appDir, "version.ts~"));
  }, 60_000);

  test("`git checkout` of another branch is pushed once, and so is the way back", async () => {
    edit("version.ts", (t) => t.replace("v5", "v1"));
    await nextPush();
    git("commit", "-q", "-am", "earlier edits");
    git("checkout", "-q", "-b", "feature");
    const committed = nextPush();
    edit("version.ts", (t) => t.replace("v1", "feature"));
    await committed;
    git("commit", "-q", "-am", "feature version");

    const from = lines.length;
    let pushed = nextPush();
    git("checkout", "-q", "main");
    expect(await pushed).toMatch(/^✔ version\.ts changed: /);
    expect(await admin().query(version, {})).toBe("v1");
    pushed = nextPush();
    git("checkout", "-q", "feature");
    expect(await pushed).toMatch(/^✔ version\.ts changed: /);
    expect(await admin().query(version, {})).toBe("feature");
    // After git replaced it, a save in place is still noticed.
    pushed = nextPush();
    edit("version.ts", (t) => t.replace("feature", "edited after checkout"));
    await pushed;
    expect(await admin().query(version, {})).toBe("edited after checkout");
    expect(pushesSince(from)).toHaveLength(3);
  }, 60_000);

  test("a build error is shown with file and line and the previous code keeps serving", async () => {
    const reported = nextLine(/^✖/);
    edit("messages.ts", (t) => t + "\nexport const broken = query({ args: {}, handler: async () => { return ( } });\n");
    const line = await reported;
    expect(line).toMatch(/messages\.ts:\d+:\d+: error/);
    expect(line).toContain("the previous functions keep serving");
    expect(await admin().query(makeFunctionReference<"query">("messages:list"), {})).toHaveLength(1);
    const fixed = nextPush();
    edit("messages.ts", (t) => t.slice(0, t.indexOf("\nexport const broken")));
    await fixed;
  }, 60_000);

  test("code with a type error is not pushed; once fixed, it is", async () => {
    const typed = makeFunctionReference<"query">("messages:typed");
    const reported = nextLine(/^✖ TypeScript typecheck/);
    edit("messages.ts", (t) => t + '\nexport const typed = query({ args: {}, handler: async () => { const n: number = "x"; return n; } });\n');
    const report = await reported;
    expect(report).toMatch(/not pushed, the previous functions keep serving/);
    expect(report).toMatch(/messages\.ts:\d+:\d+: type error TS2322: Type 'string' is not assignable to type 'number'/);
    expect(report).toContain("To ignore failing typecheck, use `--typecheck=disable`.");
    // The engine still runs the code from before the edit.
    await expect(admin().query(typed, {})).rejects.toThrow(/Could not find function for 'messages:typed'/);

    const fixed = nextPush();
    edit("messages.ts", (t) => t.replace('const n: number = "x"', "const n: number = 7"));
    expect(await fixed).toMatch(/types OK$/);
    expect(await admin().query(typed, {})).toBe(7);
  }, 60_000);

  test("a schema the documents do not match is refused in a few lines: the count, the first document trimmed, the fix", async () => {
    const send = makeFunctionReference<"mutation">("messages:send");
    const avatar = `data:image/png;base64,${"iVBORw0KGgo".repeat(2000)}`;
    const ids = [(await admin().mutation(send, { author: "bob", body: avatar })) as string, (await admin().mutation(send, { author: "cy", body: avatar })) as string];
    ids.push(...((await admin().query(makeFunctionReference<"query">("messages:list"), {})) as { _id: string }[]).map((m) => m._id));
    const refused = nextLine(/schema push refused/);
    edit("schema.ts", (t) => t.replace("body: v.string()", "body: v.number()"));
    const message = await refused;
    // Every message so far has a string body: hello, and the two avatars.
    expect(message).toMatch(/3 documents in table "messages" do not match the schema/);
    const shown = /Document with ID "([0-9a-z]+)"/.exec(message)?.[1];
    expect(ids).toContain(shown);
    expect(message).toMatch(/To fix/);
    expect(message.length).toBeLessThan(1500);
    expect(message.split("\n").length).toBeLessThan(12);
    expect(message).not.toContain("iVBORw0KGgo".repeat(20));

    const restored = nextPush();
    edit("schema.ts", (t) => t.replace("body: v.number()", "body: v.string()").replace('.index("by_author", ["author"])', '.index("by_author", ["author"]).index("by_body", ["body"])'));
    await restored;
    expect(running.engine.store.listIndexes("messages").map((i) => i.name)).toContain("messages.by_body");
  }, 60_000);
});

describe("which saved files count", () => {
  test.each([
    ["posts.ts", true],
    ["lib/auth.ts", true],
    ["schema.ts", true],
    ["tsconfig.json", true],
    ["model/feed.tsx", true],
    ["../shared/limits.ts", true],
    ["_generated/api.d.ts", false],
    ["node_modules/x/index.js", false],
    [".posts.ts.swp", false],
    [".#posts.ts", false],
    ["posts.ts~", false],
    ["sedAb12Cd", false],
    ["4913", false],
    ["posts.ts___jb_tmp___", false],
    ["posts.ts.tmp.8812", false],
    ["README.md", false],
  ])("%s → %s", (file, counts) => {
    expect(isAppSource(file)).toBe(counts);
  });
});
