import { afterEach, beforeEach, describe } from "vitest";
import type { AppBackend, BackendFactory } from "./backend";
import { convexTestBackend } from "./convex-test-backend";
import { engineBackend } from "./engine-backend";

export type { AppBackend, AppClient, BackendFactory } from "./backend";

/** The backends every app suite runs on; each offers everything the app uses. */
export const BACKENDS: BackendFactory[] = [convexTestBackend, engineBackend];

/**
 * Declares suite `title` once per backend in {@link BACKENDS}. `body`
 * declares tests that reach the current test's fresh deployment through
 * `get()`.
 */
export function describeEach(
  title: string,
  body: (get: () => AppBackend, factory: BackendFactory) => void,
): void {
  for (const factory of BACKENDS) {
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
