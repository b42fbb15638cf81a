import { SourceMap } from "node:module";
import path from "node:path";

/**
 * Maps stack frames of evaluated app bundles back to the app's source files,
 * so a dev sees `convex/posts.ts:42:11`, not a line of the bundle. The map is
 * read with Node's own SourceMap class and kept here, one per app folder (the
 * latest bundle's): the evaluated code carries no `sourceMappingURL`, because
 * Node, when source maps are enabled, would cache every evaluated copy's map
 * for good, and dev mode evaluates a copy on every save.
 */
const maps = new Map<string, { encoded: string; map: SourceMap | null; base: string }>();
const MAP_COMMENT = /\/\/# sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/=]+)\s*$/;

/** Registers a bundle's source map; returns its file name and its code without the map comment. */
export function registerBundle(code: string, appDir: string): { filename: string; code: string } {
  const filename = path.join(appDir, "convex-app.bundle.js");
  const match = MAP_COMMENT.exec(code);
  if (match === null) return { filename, code };
  // Decoded on the first stack that needs it: every load (and every query worker) would
  // otherwise pay for parsing a map that most runs never read.
  // esbuild writes sources relative to its working directory, the app folder's parent.
  maps.set(filename, { encoded: match[1]!, map: null, base: path.dirname(appDir) });
  return { filename, code: code.slice(0, match.index) };
}

function sourceMapOf(filename: string): { map: SourceMap; base: string } | undefined {
  const known = maps.get(filename);
  if (known === undefined) return undefined;
  if (known.map === null) {
    try {
      known.map = new SourceMap(JSON.parse(Buffer.from(known.encoded, "base64").toString("utf8")));
    } catch {
      // A stack without mapping is still useful.
      maps.delete(filename);
      return undefined;
    }
  }
  return { map: known.map, base: known.base };
}

/**
 * The frames of `stack` that point into app code, mapped to source files
 * (paths relative to the current directory). The wrapper line added around
 * the bundle shifts nothing: it is on the bundle's first line.
 */
export function appFrames(stack: string | undefined): string[] {
  if (!stack) return [];
  const out: string[] = [];
  for (const line of stack.split("\n").slice(1)) {
    const m = /^\s*at (?:(.*?) \()?(.+?\.bundle\.js):(\d+):(\d+)\)?$/.exec(line);
    if (!m) continue;
    const known = sourceMapOf(m[2]!);
    const entry = known?.map.findEntry(Number(m[3]) - 1, Number(m[4]) - 1) as
      | { originalSource?: string; originalLine?: number; originalColumn?: number }
      | undefined;
    if (!entry?.originalSource) continue;
    const source = path.resolve(known!.base, entry.originalSource.replace(/^file:\/\//, ""));
    if (source.includes(`${path.sep}node_modules${path.sep}`)) continue;
    const file = path.relative(process.cwd(), source);
    const where = `${file}:${(entry.originalLine ?? 0) + 1}:${(entry.originalColumn ?? 0) + 1}`;
    out.push(`    at ${m[1] ? `${m[1]} (${where})` : where}`);
  }
  return out;
}
