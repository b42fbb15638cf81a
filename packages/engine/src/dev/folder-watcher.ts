import { watch, type FSWatcher } from "chokidar";
import path from "node:path";

/** A watch on a functions folder (and the files outside it that the app imports). */
export interface FolderWatcher {
  /** Resolves once the initial scan is done: edits after this are reported. */
  readonly ready: Promise<void>;
  /** Also watches these files (sources outside the folder that the bundle read). */
  add(files: string[]): void;
  close(): Promise<void>;
}

/** Extensions of files that can change what the app does (sources, `tsconfig.json`, imported JSON). */
const SOURCE_EXTENSIONS = new Set([".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs", ".json"]);

/**
 * Watches `dir` recursively with chokidar and calls `onChange` once per burst
 * of edits (an editor's save, `git checkout` of a branch), with the source
 * files that changed, relative to `dir`.
 *
 * chokidar, not `fs.watch(dir, { recursive: true })`: on Linux, Node 20's
 * recursive watch follows inodes, so after a file is replaced by a rename
 * (`sed -i`, `git checkout`, editors that save atomically) its later saves go
 * unnoticed. chokidar watches each directory and re-attaches to replaced files;
 * its `atomic` mode folds an unlink-then-add into one change.
 */
export function watchFolder(dir: string, onChange: (files: string[]) => void, debounceMs = 100): FolderWatcher {
  const root = path.resolve(dir);
  let timer: NodeJS.Timeout | undefined;
  let pending = new Set<string>();
  const watcher: FSWatcher = watch(root, {
    ignoreInitial: true,
    atomic: true,
    // Never descend into folders that hold no app source (or that codegen writes itself).
    ignored: (file) => isIgnoredFolder(path.relative(root, file)),
  });
  const report = (file: string) => {
    const name = displayName(root, file);
    if (!isAppSource(name)) return;
    pending.add(name);
    clearTimeout(timer);
    timer = setTimeout(() => {
      const files = [...pending].sort();
      pending = new Set();
      onChange(files);
    }, debounceMs);
  };
  watcher.on("add", report).on("change", report).on("unlink", report);
  const ready = new Promise<void>((resolve) => watcher.once("ready", () => resolve()));
  const extra = new Set<string>();
  return {
    ready,
    add(files) {
      const fresh = files.map((f) => path.resolve(f)).filter((f) => !f.startsWith(root + path.sep) && !extra.has(f));
      for (const f of fresh) extra.add(f);
      if (fresh.length > 0) watcher.add(fresh);
    },
    async close() {
      clearTimeout(timer);
      await watcher.close();
    },
  };
}

/** `messages.ts` for a file in the folder, a path relative to the current directory for one outside it. */
function displayName(root: string, file: string): string {
  const inside = path.relative(root, file);
  const name = inside.startsWith("..") ? path.relative(process.cwd(), file) : inside;
  return name.split(path.sep).join("/");
}

/** Folders never watched: generated code, dependencies, hidden folders (`.git`). */
function isIgnoredFolder(relative: string): boolean {
  if (relative === "" || relative.startsWith("..")) return false;
  return relative.split(path.sep).some((part) => part === "_generated" || part === "node_modules" || part.startsWith("."));
}

/**
 * Whether a changed file counts: a source file, not an editor's or a tool's
 * temporary file. Temporary files either start with a dot (`.#posts.ts`,
 * `.posts.ts.swp`) or lose the source extension (`posts.ts~`, `sedAb12Cd`,
 * `4913`, `posts.ts___jb_tmp___`, `posts.ts.tmp.1234`).
 */
export function isAppSource(relative: string): boolean {
  const parts = relative.split("/").filter((part) => part !== "..");
  if (parts.some((part) => part === "_generated" || part === "node_modules" || part.startsWith("."))) return false;
  return SOURCE_EXTENSIONS.has(path.extname(parts.at(-1)!));
}
