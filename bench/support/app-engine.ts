import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createEngine } from "../../packages/engine/src/engine";
import type { Engine, EngineOptions } from "../../packages/engine/src/engine-options";
import { quietLogger } from "../../packages/engine/test/support/test-engine";
import { startTestIssuer, type TestIssuer } from "../../packages/engine/test/support/test-issuer";

/**
 * The Instagram app (`convex/`) on an engine in the benchmark's own process: a fresh data
 * folder under the system's temp folder, a test OIDC issuer standing in for Clerk, no
 * logging. `options` adds to or overrides the engine's options (query cache, workers …).
 */
export interface AppEngine {
  engine: Engine;
  issuer: TestIssuer;
  /** Closes the engine and the issuer and removes the data folder. */
  close(): Promise<void>;
}

export async function startAppEngine(prefix: string, options: Partial<EngineOptions> = {}): Promise<AppEngine> {
  const dataDir = mkdtempSync(path.join(tmpdir(), prefix));
  const issuer = await startTestIssuer();
  const engine = await createEngine({
    appDir: path.resolve("convex"),
    dataDir,
    port: 0,
    sitePort: 0,
    env: { CLERK_JWT_ISSUER_DOMAIN: issuer.issuer },
    logger: quietLogger(),
    ...options,
  });
  return {
    engine,
    issuer,
    async close() {
      await engine.close();
      await issuer.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
