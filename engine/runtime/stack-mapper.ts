import { SourceMap } from "node:module";
import path from "node:path";

/**
 * Maps stack frames of evaluated app bundles back to the app's source files,
 * so a dev sees `convex/posts.ts:42:11`, not a line of the bundle. Node does
 * not apply source maps to `vm.Script` code, so the bundle's inline map is
 * read with Node's own SourceMap class. Only the latest few bundles are kept.
 */
const maps = new Map<string, { map: SourceMap; base: string }>();
const KEEP = 8;
let counter = 0;

/** A unique file name for one evaluation of a bundle, registered with its source map. */
export function registerBundle(code: string, appDir: string): string {
  counter += 1;
  const filename = path.join(appDir, `convex-app-${counter}.bundle.js`);
  const match = /\/\/# sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/=]+)\s*$/.exec(code);
  if (match) {
    try {
      // esbuild writes sources relative to its working directory, the app folder's parent.
      const map = new SourceMap(JSON.parse(Buffer.from(match[1]!, "base64").toString("utf8")));
      maps.set(filename, { map, base: path.dirname(appDir) });
      if (maps.size > KEEP) maps.delete(maps.keys().next().value as string);
    } catch {
      // A stack without mapping is still useful.
    }
  }
  return filename;
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
    const known = maps.get(m[2]!);
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
