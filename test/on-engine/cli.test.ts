import { ConvexHttpClient } from "convex/browser";
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import { adminClient } from "../../packages/engine/test/support/admin-client";
import { spawnEngine, type EngineProcess } from "../../packages/engine/test/support/engine-process";
import { APP_DIR } from "../support/app-engine";

const BIN = fileURLToPath(new URL("../../packages/engine/bin/convex-local.mjs", import.meta.url));
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

    test("import and env errors of a running engine read as sentences, not JSON", async () => {
      const notZip = path.join(dataDir, "..", `not-a-zip-${process.pid}.zip`);
      writeFileSync(notZip, "hello");
      try {
        const failure = await run("import", "--path", notZip, "--data", dataDir).catch((e: { stderr: string; code: number }) => e);
        expect(failure).toMatchObject({ code: 1 });
        expect((failure as { stderr: string }).stderr).toMatch(/^Import failed, nothing was imported: The file is not a readable ZIP/);
        expect((failure as { stderr: string }).stderr).not.toContain('{"code"');
      } finally {
        rmSync(notZip, { force: true });
      }
      await expect(run("env", "remove", "extra", "--data", dataDir)).rejects.toMatchObject({
        stderr: expect.stringMatching(/^No env var named extra is set in .* \(did you mean EXTRA\?\)\. `env list` shows the names\.\n$/),
      });
    });

    test("SIGTERM stops it cleanly", async () => {
      const code = await engine.stop("SIGTERM");
      expect(code).toBe(0);
      expect(engine.output()).toMatch(/stopped\s*$/);
    });
  });
});

/** What the CLI says when something is wrong, and that a failed start leaves no data folder behind. */
describe("CLI errors", () => {
  let scratch: string;
  const fails = async (...args: string[]) => {
    const failure = (await run(...args).then(
      () => null,
      (e: { stderr: string; code: number }) => e,
    )) as { stderr: string; code: number } | null;
    expect(failure, `expected \`${args.join(" ")}\` to fail`).not.toBeNull();
    expect(failure!.code).toBe(1);
    return failure!.stderr;
  };
  beforeAll(() => {
    scratch = mkdtempSync(path.join(tmpdir(), "engine-cli-errors-"));
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  describe("a port in use", () => {
    let busy: Server;
    let port: number;
    beforeAll(async () => {
      busy = createServer();
      port = await new Promise<number>((resolve) => busy.listen(0, "127.0.0.1", () => resolve((busy.address() as { port: number }).port)));
    });
    afterAll(() => new Promise<void>((resolve) => busy.close(() => resolve())));

    test("on the API port names --port, and the new data folder is not created", async () => {
      const data = path.join(scratch, "never-created");
      const stderr = await fails("start", "--functions", APP_DIR, "--data", data, "--port", String(port), "--site-port", "0");
      expect(stderr).toMatch(new RegExp(`^The API port ${port} on 127\\.0\\.0\\.1 is already in use .*Start with --port <another port>`));
      expect(existsSync(data)).toBe(false);
    });

    test("on the site port names --site-port", async () => {
      const data = path.join(scratch, "never-created-either");
      const stderr = await fails("start", "--functions", APP_DIR, "--data", data, "--port", "0", "--site-port", String(port));
      expect(stderr).toMatch(/HTTP actions \(site\) port .* Start with --site-port <another port>/);
      expect(existsSync(data)).toBe(false);
    });
  });

  test("a --functions path that does not exist, or that is the project folder", async () => {
    const data = path.join(scratch, "data-for-typo");
    expect(await fails("start", "--functions", path.join(scratch, "convx"), "--data", data)).toMatch(/^No functions folder at .*convx \(--functions .*convx\)\. Point --functions at the folder/);
    const project = path.join(scratch, "project");
    mkdirSync(path.join(project, "convex"), { recursive: true });
    expect(await fails("start", "--functions", project, "--data", data)).toMatch(/looks like a project folder, not its functions folder\. Did you mean --functions .*project\/convex\?/);
    expect(existsSync(data)).toBe(false);
  });

  test("a functions folder without _generated/ says to run codegen or dev", async () => {
    const app = path.join(scratch, "fresh-clone", "convex");
    cpSync(APP_DIR, app, { recursive: true, filter: (src) => !src.includes("_generated") });
    const data = path.join(scratch, "fresh-clone", "data");
    const stderr = await fails("start", "--functions", app, "--data", data, "--port", "0", "--site-port", "0");
    expect(stderr).toMatch(/Could not resolve "\.\/_generated\/server"/);
    expect(stderr).toContain("_generated/ is missing: run `npm run codegen` (or `npm run dev`, which writes it and keeps it current).");
    expect(stderr.split("\n").length).toBeLessThan(25);
    expect(existsSync(data)).toBe(false);
  });

  test("commands that only read a data folder refuse a missing one instead of creating it", async () => {
    const data = path.join(scratch, "dta");
    expect(await fails("env", "list", "--data", data)).toMatch(/^No engine data at .*dta \(--data\)/);
    expect(await fails("env", "remove", "X", "--data", data)).toMatch(/^No engine data at/);
    expect(await fails("export", "--path", path.join(scratch, "out.zip"), "--data", data)).toMatch(/^No engine data at/);
    expect(existsSync(data)).toBe(false);
  });

  test("env remove of a name that is not set fails and says so", async () => {
    const data = path.join(scratch, "env-data");
    await run("env", "set", "GREETING", "hi", "--data", data);
    expect(await fails("env", "remove", "GREETNG", "--data", data)).toMatch(/^No env var named GREETNG is set in .*env-data\. `env list` shows the names\./);
    expect((await run("env", "list", "--data", data)).stdout).toBe("GREETING=hi\n");
  });

  test("export refuses to overwrite a file unless --force, and writes into a folder it is given", async () => {
    const data = path.join(scratch, "export-data");
    await run("env", "set", "A", "1", "--data", data);
    const target = path.join(scratch, "snapshot.zip");
    writeFileSync(target, "precious");
    expect(await fails("export", "--path", target, "--data", data)).toMatch(/snapshot\.zip already exists\. Add --force to overwrite it, or choose another --path\./);
    await run("export", "--path", target, "--force", "--data", data);
    const folder = path.join(scratch, "exports");
    mkdirSync(folder);
    const { stdout } = await run("export", "--path", folder, "--data", data);
    expect(readdirSync(folder)).toEqual([expect.stringMatching(/^snapshot_\d{8}T\d{6}\.zip$/)]);
    expect(stdout).toContain(folder);
  });

  test("importing a file that is not there, or not a snapshot, is one readable line", async () => {
    const data = path.join(scratch, "import-data");
    await run("env", "set", "A", "1", "--data", data);
    expect(await fails("import", "--path", path.join(scratch, "nope.zip"), "--data", data)).toMatch(/^No file at .*nope\.zip \(--path\)/);
    const notZip = path.join(scratch, "notes.zip");
    writeFileSync(notZip, "just text");
    expect(await fails("import", "--path", notZip, "--data", data)).toMatch(/^Import failed, nothing was imported: The file is not a readable ZIP[^\n]*\n$/);
  });
});
