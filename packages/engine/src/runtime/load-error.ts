import { bundleFilename, frameText, mapFrames, readBundleMap } from "./stack-mapper.js";

/** Stack lines shown for an error thrown while the app's modules load. */
const MAX_FRAMES = 6;

/**
 * The message for an error thrown while a bundle's modules were evaluated
 * (code at a module's top level, `defineSchema`, `httpRouter` routes), with
 * the stack mapped to the app's source files: `Failed to load convex/posts.ts:
 * Uncaught Error: …` and `at convex/posts.ts:12:7` lines, never a line of the
 * bundle. A pure function of the bundle and the error, so any thread that
 * evaluated the bundle can word it.
 */
export function describeLoadError(bundleCode: string, appDir: string, error: unknown): string {
  const thrown = error instanceof Error ? `Uncaught ${error.name || "Error"}: ${error.message}` : `Uncaught ${String(error)}`;
  const stack = error instanceof Error ? error.stack : undefined;
  const { map } = readBundleMap(bundleCode, appDir);
  const frames = map === null ? [] : mapFrames(stack, bundleFilename(appDir), map);
  const own = frames.filter((f) => !f.dependency);
  // The app's own frames say where to look; a package's frames only when the app has none on the stack.
  const shown = (own.length > 0 ? own : frames).slice(0, MAX_FRAMES);
  const where = own[0] !== undefined ? own[0].file : "the functions";
  return [`Failed to load ${where}: ${thrown}`, ...shown.map(frameText)].join("\n");
}
