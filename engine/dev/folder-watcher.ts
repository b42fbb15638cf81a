import { watch, type FSWatcher } from "node:fs";

/**
 * Watches a functions folder recursively and calls `onChange` once per burst
 * of edits (editors write files in several steps). Changes inside
 * `_generated/` are ignored: codegen writes there itself.
 */
export function watchFolder(dir: string, onChange: (files: string[]) => void, debounceMs = 120): { close(): void } {
  let timer: NodeJS.Timeout | undefined;
  let pending = new Set<string>();
  const watcher: FSWatcher = watch(dir, { recursive: true }, (_event, filename) => {
    const name = filename === null ? "" : String(filename).replace(/\\/g, "/");
    if (isIgnored(name)) return;
    pending.add(name);
    clearTimeout(timer);
    timer = setTimeout(() => {
      const files = [...pending];
      pending = new Set();
      onChange(files);
    }, debounceMs);
  });
  return {
    close() {
      clearTimeout(timer);
      watcher.close();
    },
  };
}

function isIgnored(name: string): boolean {
  if (name === "") return false;
  return name.split("/").some((part) => part === "_generated" || part === "node_modules" || part.startsWith("."));
}
