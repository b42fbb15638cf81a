import { afterEach, beforeEach, describe, type TestContext } from "vitest";
import type { AppBackend, BackendFactory, Capability } from "./backend";
import { convexTestBackend } from "./convex-test-backend";
import { engineBackend } from "./engine-backend";

export type { AppBackend, AppClient, BackendFactory, Capability } from "./backend";

/**
 * The backends every app suite runs on. The engine joins with one line here
 * once it exists.
 */
export const BACKENDS: BackendFactory[] = [convexTestBackend, engineBackend];

/**
 * Declares suite `title` once per backend in {@link BACKENDS}. `body`
 * declares tests that reach the current test's fresh deployment through
 * `get()`. With `needs`, the whole suite is skipped, naming why, on a
 * backend lacking one of those capabilities.
 */
export function describeEach(
  title: string,
  body: (get: () => AppBackend, factory: BackendFactory) => void,
  options: { needs?: Capability[] } = {},
): void {
  for (const factory of BACKENDS) {
    const missing = (options.needs ?? []).filter((cap) => !factory.capabilities.has(cap));
    if (missing.length > 0) {
      describe.skip(`${title} [${factory.name}: skipped, lacks ${missing.join(", ")}]`, () => {});
      continue;
    }
    describe(`${title} [${factory.name}]`, () => {
      let backend: AppBackend | null = null;
      beforeEach(async () => {
        backend = await factory.create();
      });
      afterEach(async () => {
        await backend?.close();
        backend = null;
      });
      body(() => {
        if (backend === null) throw new Error("get() is only available inside a test");
        return backend;
      }, factory);
    });
  }
}

/** The backend's current time (see {@link AppBackend.now}). */
export async function backendNow(backend: AppBackend): Promise<number> {
  return backend.now === undefined ? Date.now() : await backend.now();
}

/** Skips the running test, naming why, when `backend` lacks one of `caps`. */
export function needs(ctx: TestContext, backend: AppBackend, ...caps: Capability[]): void {
  const missing = caps.filter((cap) => !backend.capabilities.has(cap));
  if (missing.length > 0) ctx.skip(`${backend.name} lacks ${missing.join(", ")}`);
}
