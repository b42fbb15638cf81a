import { ConvexHttpClient } from "convex/browser";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import { adminClient } from "../support/admin-client";
import { spawnEngine, type EngineProcess } from "../support/engine-process";
import { APP_DIR } from "../support/test-engine";

const BIN = fileURLToPath(new URL("../../bin/convex-local.mjs", import.meta.url));
const cli = promisify(execFile);
const run = (...args: string[]) => cli(process.execPath, [BIN, ...args]);

/** The `convex-local` command as a user runs it. */
describe("CLI", () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), "engine-cli-"));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  test("env set / list / remove work on a stopped engine's data folder and persist", async () => {
    await run("env", "set", "GREETING", "hello world", "--data", dataDir);
    await run("env", "set", "OTHER", "x", "--data", dataDir);
    await run("env", "remove", "OTHER", "--data", dataDir);
    const { stdout } = await run("env", "list", "--data", dataDir);
    expect(stdout.trim()).toBe("GREETING=hello world");
    await expect(run("env", "set", "BAD-NAME", "x", "--data", dataDir)).rejects.toMatchObject({
      stderr: expect.stringMatching(/Invalid env var name/),
    });
  });

  describe("start", () => {
    let engine: EngineProcess;
    beforeAll(async () => {
      const envFile = path.join(dataDir, "secrets.env");
      writeFileSync(envFile, '# secrets, off the command line\nFROM_FILE="a quoted value"\nEXTRA=loses to --env\n', { mode: 0o600 });
      engine = await spawnEngine({ appDir: APP_DIR, dataDir, dev: true, env: { EXTRA: "from --env" }, extraArgs: ["--env-file", envFile] });
    }, 60_000);
    afterAll(async () => {
      await engine?.stop("SIGKILL");
    });

    test("prints a ready line with the URLs and serves the app", async () => {
      expect(engine.output()).toMatch(/^ready: API http:\/\/127\.0\.0\.1:\d+ +site http:\/\/127\.0\.0\.1:\d+/m);
      const anonymous = new ConvexHttpClient(engine.cloudUrl, { logger: false });
      expect(await anonymous.query(api.users.getCurrentUser, {})).toBeNull();
    });

    test("env vars from the data folder, --env-file and --env are all present; --env wins over the file", async () => {
      const { stdout } = await run("env", "list", "--data", dataDir);
      expect(stdout).toContain("GREETING=hello world");
      expect(stdout).toContain("FROM_FILE=a quoted value");
      expect(stdout).toContain("EXTRA=from --env");
    });

    test("a second engine on the same data folder is refused", async () => {
      const second = spawnEngine({ appDir: APP_DIR, dataDir });
      await expect(second).rejects.toThrow(/Another engine .* is using the data folder/);
    });

    test("in dev mode, `token` and POST /api/dev/token (with the admin key) mint tokens the engine accepts", async () => {
      const admin = adminClient(engine.cloudUrl, engine.adminKey);
      await admin.mutation(internal.users.createUser, { clerkId: "user_cli", username: "cli" });
      const { stdout } = await run("token", "--subject", "user_cli", "--data", dataDir);
      const viaCli = new ConvexHttpClient(engine.cloudUrl, { logger: false });
      viaCli.setAuth(stdout.trim());
      expect(await viaCli.query(api.users.getCurrentUser, {})).toMatchObject({ username: "cli" });

      const response = await fetch(`${engine.cloudUrl}/api/dev/token`, {
        method: "POST",
        headers: { Authorization: `Convex ${engine.adminKey}` },
        body: JSON.stringify({ subject: "user_cli" }),
      });
      const viaHttp = new ConvexHttpClient(engine.cloudUrl, { logger: false });
      viaHttp.setAuth(((await response.json()) as { token: string }).token);
      expect(await viaHttp.query(api.users.getCurrentUser, {})).toMatchObject({ username: "cli" });
    });

    test("`token --ttl` sets the token's lifetime through the running engine; a bad value is refused", async () => {
      const { stdout } = await run("token", "--subject", "user_cli", "--ttl", "90", "--data", dataDir);
      const claims = JSON.parse(Buffer.from(stdout.trim().split(".")[1]!, "base64url").toString()) as { exp: number; iat: number };
      expect(claims.exp - claims.iat).toBe(90);
      await expect(run("token", "--subject", "user_cli", "--ttl", "soon", "--data", dataDir)).rejects.toMatchObject({
        stderr: expect.stringMatching(/--ttl: The token lifetime must be a whole number of seconds/),
      });
    });

    test("`dashboard` prints the running engine's dashboard URL and admin key", async () => {
      const { stdout } = await run("dashboard", "--data", dataDir);
      expect(stdout).toBe(`dashboard: ${engine.cloudUrl}/dashboard\nadmin key: ${engine.adminKey}\n`);
      const page = await fetch(`${engine.cloudUrl}/dashboard`);
      expect(page.status).toBe(200);
    });

    test("SIGTERM stops it cleanly", async () => {
      const code = await engine.stop("SIGTERM");
      expect(code).toBe(0);
      expect(engine.output()).toMatch(/stopped\s*$/);
    });
  });
});
