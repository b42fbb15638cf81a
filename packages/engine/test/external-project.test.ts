import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { anyApi } from "convex/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The engine as a product of its own: a Convex project that is not this repository's app
 * (a folder outside the repository, with its own package.json) adds the package as a dev
 * dependency the way a user would, runs it with one command, and the official clients
 * talk to it. The engine comes from this repository; `convex` from npm's cache when it
 * can answer (`--prefer-offline`), else from the registry: `npm ci` caches tarballs but
 * not the registry's metadata a version range is resolved against, so on a fresh machine
 * an `--offline` install failed with ENOTCACHED.
 */

const PACKAGE_DIR = fileURLToPath(new URL("..", import.meta.url));
const FIXTURE = fileURLToPath(new URL("fixtures/external-project", import.meta.url));

/** The environment of a shell in the project, not of the `npm test` that runs this file. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.toLowerCase().startsWith("npm_") && name !== "INIT_CWD" && name !== "NODE_OPTIONS") env[name] = value;
  }
  return env;
}

let project: string;
let engine: ChildProcess | null = null;
let output = "";
let cloudUrl = "";
const clients: ConvexClient[] = [];

beforeAll(async () => {
  project = mkdtempSync(path.join(tmpdir(), "convex-project-"));
  cpSync(FIXTURE, project, { recursive: true });
  const install = spawnSync("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--save-dev", PACKAGE_DIR], {
    cwd: project,
    env: userEnv(),
    encoding: "utf8",
  });
  if (install.status !== 0) throw new Error(`npm install failed (${install.status}):\n${install.stdout}\n${install.stderr}`);

  // The one command: `npx convex-local dev` (ports 0: any free port, as the test runs beside others).
  // In a process group of its own: npx runs the engine as its child, and stopping npx alone
  // would leave the engine running.
  engine = spawn("npx", ["--offline", "convex-local", "dev", "--port", "0", "--site-port", "0"], {
    cwd: project,
    env: userEnv(),
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  engine.stderr!.on("data", (d) => (output += String(d)));
  cloudUrl = await new Promise<string>((resolve, reject) => {
    createInterface({ input: engine!.stdout! }).on("line", (line) => {
      output += line + "\n";
      const ready = /^ready: API (\S+)/.exec(line);
      if (ready) resolve(ready[1]!);
    });
    engine!.once("exit", (code) => reject(new Error(`convex-local exited (${code}) before it was ready:\n${output}`)));
  });
}, 240_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  if (engine !== null && engine.exitCode === null && engine.signalCode === null) {
    const exited = new Promise((resolve) => engine!.once("exit", resolve));
    process.kill(-engine.pid!, "SIGTERM");
    await exited;
    // The engine itself (npx's child) exits on the same signal; wait until the group is empty.
    for (;;) {
      try {
        process.kill(-engine.pid!, 0);
      } catch {
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  if (project) rmSync(project, { recursive: true, force: true });
});

describe("a Convex project outside this repository", () => {
  it("has the engine as a dev dependency, linked from this repository", () => {
    const manifest = JSON.parse(readFileSync(path.join(project, "package.json"), "utf8")) as { devDependencies?: Record<string, string> };
    expect(manifest.devDependencies?.["convex-local"]).toMatch(/^file:/);
    expect(realpathSync(path.join(project, "node_modules", "convex-local"))).toBe(realpathSync(PACKAGE_DIR));
    expect(existsSync(path.join(project, "node_modules", ".bin", "convex-local"))).toBe(true);
  });

  it("gets convex/_generated/ written by the one command, as `npx convex dev` does", () => {
    const api = readFileSync(path.join(project, "convex", "_generated", "api.d.ts"), "utf8");
    expect(api).toContain('import type * as messages from "../messages.js";');
    expect(existsSync(path.join(project, "convex", "_generated", "server.js"))).toBe(true);
  });

  it("serves its functions to the official clients: a live query follows a mutation", async () => {
    const client = new ConvexClient(cloudUrl);
    clients.push(client);
    const seen: { author: string; body: string }[][] = [];
    let notify: () => void = () => undefined;
    client.onUpdate(anyApi.messages!.list!, {}, (messages: { author: string; body: string }[]) => {
      seen.push(messages);
      notify();
    });
    const sawAll = (n: number) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (seen.at(-1)?.length === n) resolve();
        };
        notify = check;
        check();
      });
    await sawAll(0);
    await client.mutation(anyApi.messages!.send!, { author: "ada", body: "hello from another project" });
    await sawAll(1);
    expect(seen.at(-1)).toEqual([{ author: "ada", body: "hello from another project" }]);

    const http = new ConvexHttpClient(cloudUrl);
    expect(await http.query(anyApi.messages!.list!, {})).toEqual([{ author: "ada", body: "hello from another project" }]);
    // The project's own rule holds: an empty message is refused (dev mode shows its text) and nothing is written.
    await expect(http.mutation(anyApi.messages!.send!, { author: "ada", body: "  " })).rejects.toThrow(/needs some text/);
    expect(await http.query(anyApi.messages!.list!, {})).toHaveLength(1);
  });

  it("keeps its data in the project's own folder", () => {
    expect(existsSync(path.join(project, "data", "db.sqlite3"))).toBe(true);
  });
});
