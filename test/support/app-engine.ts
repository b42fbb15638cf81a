import { fileURLToPath } from "node:url";
import { startTestEngine as startEngine, type TestEngine } from "../../packages/engine/test/support/test-engine";

// The Instagram app's tests on the engine start the engine package's test helper with
// the app's own functions folder unless they name another one.

export * from "../../packages/engine/test/support/test-engine";

/** The Instagram app's functions folder. */
export const APP_DIR = fileURLToPath(new URL("../../convex", import.meta.url));

/** `startTestEngine` of the engine package, on the Instagram app unless `appDir` says otherwise. */
export function startTestEngine(options: Partial<Parameters<typeof startEngine>[0]> = {}): Promise<TestEngine> {
  return startEngine({ ...options, appDir: options.appDir ?? APP_DIR });
}
