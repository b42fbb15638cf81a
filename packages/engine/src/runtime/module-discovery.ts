import { readdirSync, readFileSync, statSync, existsSync } from "node:fs";
import path from "node:path";

/** One function module found under the app folder. */
export interface AppModuleFile {
  /** Path relative to the app folder without extension, `/`-separated (`"posts"`, `"lib/auth"`). */
  modulePath: string;
  /** Absolute file path. */
  file: string;
  /**
   * Whether the file starts with the `"use node"` directive: on Convex it runs
   * in the Node.js runtime, may define only actions, and its npm packages can
   * be left unbundled (`node.externalPackages` in `convex.json`).
   */
  useNode: boolean;
}

/** What the app folder contains besides function modules. */
export interface AppFolderLayout {
  modules: AppModuleFile[];
  schemaFile: string | null;
  authConfigFile: string | null;
}

const SOURCE_EXTENSIONS = [".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs"];

/**
 * Lists the entry points of a Convex folder with the CLI bundler's rules, so a
 * file is a function module here exactly when `npx convex deploy` would treat
 * it as one (convex-interface.md §2.2).
 */
export function discoverAppFolder(appDir: string): AppFolderLayout {
  const modules: AppModuleFile[] = [];
  walk(appDir, "", modules);
  modules.sort((a, b) => (a.modulePath < b.modulePath ? -1 : a.modulePath > b.modulePath ? 1 : 0));
  return {
    modules,
    schemaFile: firstExisting(appDir, "schema"),
    authConfigFile: firstExisting(appDir, "auth.config"),
  };
}

function walk(root: string, rel: string, out: AppModuleFile[]): void {
  const dir = path.join(root, rel);
  for (const name of readdirSync(dir).sort()) {
    const relPath = rel ? `${rel}/${name}` : name;
    const full = path.join(dir, name);
    if (name.startsWith(".") || name.startsWith("#") || name.includes(" ")) continue;
    const stat = statSync(full);
    if (stat.isDirectory()) {
      if (name === "_generated" || name === "node_modules") continue;
      // A folder with its own convex.config.ts is a component, not part of this app.
      if (existsSync(path.join(full, "convex.config.ts"))) continue;
      walk(root, relPath, out);
      continue;
    }
    const ext = path.extname(name);
    if (!SOURCE_EXTENSIONS.includes(ext)) continue;
    const base = name.slice(0, -ext.length);
    if (base.includes(".")) continue; // auth.config.ts, foo.test.ts, x.d.ts
    if (rel === "" && base === "schema") continue;
    const text = readFileSync(full, "utf8");
    if (ext === ".ts" && !/\b(import|export)\b/.test(text)) continue;
    out.push({ modulePath: rel ? `${rel}/${base}` : base, file: full, useNode: hasUseNodeDirective(text) });
  }
}

/**
 * The directive prologue: string statements before any other code, after
 * comments. The Convex CLI parses the file for it; a line test over the
 * prologue gives the same answer for files that parse.
 */
function hasUseNodeDirective(text: string): boolean {
  if (!text.includes("use node")) return false;
  const withoutComments = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  for (const line of withoutComments.split("\n")) {
    const trimmed = line.trim();
    if (trimmed === "") continue;
    const directive = /^(["'])([^"']*)\1;?$/.exec(trimmed);
    if (directive === null) return false;
    if (directive[2] === "use node") return true;
  }
  return false;
}

function firstExisting(appDir: string, base: string): string | null {
  for (const ext of SOURCE_EXTENSIONS) {
    const file = path.join(appDir, base + ext);
    if (existsSync(file)) return file;
  }
  return null;
}
