import { SourceMap } from "node:module";
import path from "node:path";

/**
 * Maps stack frames of evaluated app bundles back to the app's source files,
 * so a dev sees `convex/posts.ts:42:11`, not a line of the bundle. The map is
 * read with Node's own SourceMap class. The evaluated code carries no
 * `sourceMappingURL`, because Node, when source maps are enabled, would cache
 * every evaluated copy's map for good, and dev mode evaluates a copy on every
 * save. Mapping is a pure function of a bundle's map and an error's stack
 * (`mapFrames`); the registry below only remembers the latest map per app
 * folder for errors thrown later, inside functions.
 */

/** A bundle's source map and the folder its source paths are relative to. */
export interface BundleMap {
  map: SourceMap;
  base: string;
}

const MAP_COMMENT = /\/\/# sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/=]+)\s*$/;
const FRAME = /^\s*at (?:(.*?) \()?(.+?\.bundle\.js):(\d+):(\d+)\)?$/;

/** The file name a bundle of `appDir` is evaluated under (stack frames name it). */
export function bundleFilename(appDir: string): string {
  return path.join(appDir, "convex-app.bundle.js");
}

/** Splits a bundle into its code without the map comment and its source map (null without one). */
export function readBundleMap(code: string, appDir: string): { code: string; map: BundleMap | null } {
  const match = MAP_COMMENT.exec(code);
  if (match === null) return { code, map: null };
  try {
    // esbuild writes sources relative to its working directory, the app folder's parent.
    const map = new SourceMap(JSON.parse(Buffer.from(match[1]!, "base64").toString("utf8")));
    return { code: code.slice(0, match.index), map: { map, base: path.dirname(appDir) } };
  } catch {
    // A stack without mapping is still useful.
    return { code: code.slice(0, match.index), map: null };
  }
}

/** One stack frame mapped to a source file (relative to the current directory). */
export interface SourceFrame {
  fn: string | null;
  file: string;
  line: number;
  column: number;
  /** True for code of an npm package bundled into the app. */
  dependency: boolean;
}

/**
 * The frames of `stack` that point into the bundle evaluated as `filename`,
 * mapped through `bundleMap`. The wrapper line added around the bundle
 * shifts nothing: it is on the bundle's first line.
 */
export function mapFrames(stack: string | undefined, filename: string, bundleMap: BundleMap): SourceFrame[] {
  if (!stack) return [];
  const out: SourceFrame[] = [];
  for (const line of stack.split("\n").slice(1)) {
    const m = FRAME.exec(line);
    if (!m || m[2] !== filename) continue;
    const entry = bundleMap.map.findEntry(Number(m[3]) - 1, Number(m[4]) - 1) as
      | { originalSource?: string; originalLine?: number; originalColumn?: number }
      | undefined;
    if (!entry?.originalSource) continue;
    const source = path.resolve(bundleMap.base, entry.originalSource.replace(/^file:\/\//, ""));
    out.push({
      fn: m[1] ?? null,
      file: path.relative(process.cwd(), source),
      line: (entry.originalLine ?? 0) + 1,
      column: (entry.originalColumn ?? 0) + 1,
      dependency: source.includes(`${path.sep}node_modules${path.sep}`),
    });
  }
  return out;
}

/** A frame as a stack line, `    at fn (convex/posts.ts:42:11)`. */
export function frameText(frame: SourceFrame): string {
  const where = `${frame.file}:${frame.line}:${frame.column}`;
  return `    at ${frame.fn ? `${frame.fn} (${where})` : where}`;
}

const maps = new Map<string, BundleMap>();

/** Registers a bundle's source map for `appFrames`; returns its file name and its code without the map comment. */
export function registerBundle(code: string, appDir: string): { filename: string; code: string } {
  const filename = bundleFilename(appDir);
  const read = readBundleMap(code, appDir);
  if (read.map !== null) maps.set(filename, read.map);
  return { filename, code: read.code };
}

/** The frames of `stack` that point into app code (not bundled packages), mapped to source files. */
export function appFrames(stack: string | undefined): string[] {
  if (!stack) return [];
  const out: string[] = [];
  for (const line of stack.split("\n").slice(1)) {
    const m = FRAME.exec(line);
    const known = m ? maps.get(m[2]!) : undefined;
    if (!m || known === undefined) continue;
    for (const frame of mapFrames(`\n${line}`, m[2]!, known)) if (!frame.dependency) out.push(frameText(frame));
  }
  return out;
}
