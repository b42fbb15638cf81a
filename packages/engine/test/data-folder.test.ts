import { execFile } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { afterEach, describe, expect, test } from "vitest";
import { lockDataFolder } from "../src/data-folder";
import { spawnEngine, type EngineProcess } from "./support/engine-process";
import { startTestEngine } from "./support/test-engine";

const APP = fileURLToPath(new URL("fixtures/basic/convex", import.meta.url));
const BIN = fileURLToPath(new URL("../bin/convex-local.mjs", import.meta.url));
const cli = promisify(execFile);
const send = makeFunctionReference<"mutation", { author: string; body: string }, string>("messages:send");
const list = makeFunctionReference<"query", Record<string, never>, { body: string }[]>("messages:list");

/** The data folder: one engine at a time, held by a lock the kernel releases, and private to its owner. */
describe("data folder", () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const freshDir = () => {
    const dir = mkdtempSync(path.join(tmpdir(), "data-folder-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  };
  const spawned = async (dataDir: string) => {
    const engine = await spawnEngine({ appDir: APP, dataDir });
    cleanups.push(() => engine.stop("SIGKILL"));
    return engine;
  };

  test("a SIGKILLed engine's folder starts again at once, data intact; the stale engine.json misleads nobody", async () => {
    const dataDir = freshDir();
    const first: EngineProcess = await spawned(dataDir);
    await new ConvexHttpClient(first.cloudUrl, { logger: false }).mutation(send, { author: "a", body: "before the crash" });
    expect(await first.stop("SIGKILL")).toBe("SIGKILL");
    expect(existsSync(path.join(dataDir, "engine.json"))).toBe(true);
    // The lock leaves no journal behind for anyone to clean up.
    expect(existsSync(path.join(dataDir, "engine.lock-journal"))).toBe(false);

    // Nothing runs now: a command works on the folder directly instead of calling a dead engine.
    const { stdout } = await cli(process.execPath, [BIN, "env", "set", "AFTER_CRASH", "1", "--data", dataDir]);
    expect(stdout).toBe("set AFTER_CRASH\n");

    const second = await spawned(dataDir);
    const messages = await new ConvexHttpClient(second.cloudUrl, { logger: false }).query(list, {});
    expect(messages.map((m) => m.body)).toEqual(["before the crash"]);
  });

  test("an engine.json naming a live process that is no engine (PID 1, a reused pid) does not block a start", async () => {
    const dataDir = freshDir();
    writeFileSync(path.join(dataDir, "engine.json"), JSON.stringify({ pid: 1, cloudUrl: "http://127.0.0.1:1", siteUrl: "", adminKey: "x" }));
    const engine = await spawned(dataDir);
    expect(engine.output()).toMatch(/^ready: /m);
  });

  test("a second engine on the folder is refused with who holds it, in another process and in this one", async () => {
    const dataDir = freshDir();
    const first = await spawned(dataDir);
    await expect(spawnEngine({ appDir: APP, dataDir })).rejects.toThrow(
      new RegExp(`Another engine \\(pid ${first.child.pid}, ${first.cloudUrl}\\) is using the data folder`),
    );
    await first.stop("SIGTERM");

    const inProcess = await startTestEngine({ appDir: APP, dataDir });
    cleanups.push(() => inProcess.close());
    await expect(startTestEngine({ appDir: APP, dataDir })).rejects.toThrow(/is using the data folder/);
  });

  test("offline commands (env, import, export) respect the lock", async () => {
    const dataDir = freshDir();
    const lock = lockDataFolder(dataDir);
    cleanups.push(() => lock.release());
    for (const args of [["env", "set", "A", "1"], ["export", "--path", path.join(dataDir, "x.zip")]]) {
      await expect(cli(process.execPath, [BIN, ...args, "--data", dataDir])).rejects.toMatchObject({
        stderr: expect.stringMatching(/is in use|is using the data folder/),
      });
    }
    lock.release();
    await cli(process.execPath, [BIN, "env", "set", "A", "1", "--data", dataDir]);
  });

  test("the folder is 0700 and the files holding secrets 0600; a folder others can read is tightened with a warning", async () => {
    const dataDir = path.join(freshDir(), "data");
    mkdirSync(dataDir);
    chmodSync(dataDir, 0o755);
    const warnings: string[] = [];
    const running = await startTestEngine({
      appDir: APP,
      dataDir,
      logger: { info: () => {}, warn: (m) => warnings.push(m), error: (m, e) => console.error(m, e) },
    });
    cleanups.push(() => running.close());
    await new ConvexHttpClient(running.engine.cloudUrl, { logger: false }).mutation(send, { author: "a", body: "secret" });
    expect(warnings.join("\n")).toMatch(/readable by other users \(mode 0755\).*now 0700/);
    const mode = (file: string) => statSync(path.join(dataDir, file)).mode & 0o777;
    expect(mode(".")).toBe(0o700);
    for (const file of ["db.sqlite3", "db.sqlite3-wal", "db.sqlite3-shm", "dev-auth-key.json", "engine.lock"]) {
      expect(mode(file), file).toBe(0o600);
    }
  });
});
