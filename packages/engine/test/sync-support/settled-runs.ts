import type { Engine } from "../../src/engine";

/**
 * How many times the engine's sync layer has run `path` (`module:function`) so far, read
 * once every pending update round is done, so the count includes every re-run the commits
 * before this call cause.
 */
export async function settledRuns(engine: Engine, path: string): Promise<number> {
  await engine.sync.idle();
  return engine.sync.stats().queryRunsByPath[path] ?? 0;
}
