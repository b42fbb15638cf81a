import { cpSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createEngine, type Engine, type EngineOptions } from "../../src/engine";
import { bundleApp, type AppBundle } from "../../src/runtime/app-bundler";

/** A started engine on a temporary data folder, removed on close. */
export interface TestEngine {
  engine: Engine;
  dataDir: string;
  close(): Promise<void>;
}

const bundles = new Map<string, Promise<AppBundle>>();
let sharedKeyFile: string | null = null;

/**
 * Starts an engine on 127.0.0.1 with random free ports and a fresh data
 * folder, in dev mode unless told otherwise. The functions bundle is built
 * once per folder and process, and the dev issuer's RSA key is generated once
 * and copied, so a fresh deployment per test costs milliseconds, not a
 * rebuild and a key generation.
 */
export async function startTestEngine(
  options: Partial<EngineOptions> & { appDir: string; dataDir?: string },
): Promise<TestEngine> {
  const appDir = options.appDir;
  let bundle = bundles.get(appDir);
  if (bundle === undefined) {
    bundle = bundleApp(appDir);
    bundles.set(appDir, bundle);
  }
  const ownsDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), "engine-test-"));
  const keyFile = path.join(dataDir, "dev-auth-key.json");
  if (sharedKeyFile !== null && !existsSync(keyFile)) cpSync(sharedKeyFile, keyFile);
  const engine = await createEngine({
    port: 0,
    sitePort: 0,
    logger: quietLogger(),
    // Tests read function error messages, which clients see in dev mode only;
    // production behaviour is tested with `dev: false`.
    dev: true,
    // One query worker (and the writer thread) per engine: tests start hundreds of engines,
    // and each worker costs a thread start; suites that need more ask for them.
    queryWorkers: 1,
    ...options,
    appDir,
    dataDir,
    bundle: options.bundle ?? (await bundle),
  });
  if (sharedKeyFile === null) {
    sharedKeyFile = path.join(mkdtempSync(path.join(tmpdir(), "engine-key-")), "dev-auth-key.json");
    cpSync(keyFile, sharedKeyFile);
  }
  return {
    engine,
    dataDir,
    async close() {
      await engine.close();
      if (ownsDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A logger that stays silent except for engine errors, which fail loudly in test output. */
export function quietLogger() {
  return {
    info: () => {},
    warn: () => {},
    error: (message: string, e?: unknown) => console.error(message, e ?? ""),
  };
}
