/**
 * Canonical function paths. Clients send `"posts:list"`, the backend's own
 * form is `"posts.js:list"`, and a default export may arrive as `"posts"` or
 * `"posts:default"`; all of them name the same function.
 */

/** Canonical forms of paths seen lately: every call resolves its path (and logs it) again. */
const canonical = new Map<string, string>();
const CACHE_SIZE = 1_000;

/** A function's canonical path, `"<module>:<export>"` without any `.js`. */
export function canonicalUdfPath(raw: string): string {
  let path = canonical.get(raw);
  if (path === undefined) {
    path = canonicalize(raw);
    if (canonical.size >= CACHE_SIZE) canonical.clear();
    canonical.set(raw, path);
  }
  return path;
}

function canonicalize(raw: string): string {
  let path = raw.trim();
  // Leading slashes and repeated slashes come from hand-built URLs.
  path = path.replace(/^\/+/, "").replace(/\/+/g, "/");
  const colon = path.lastIndexOf(":");
  let modulePath = colon === -1 ? path : path.slice(0, colon);
  const exportName = colon === -1 ? "default" : path.slice(colon + 1) || "default";
  modulePath = modulePath.replace(/\.(js|ts|jsx|tsx|mjs|cjs)$/, "");
  return `${modulePath}:${exportName}`;
}

/** The backend's display form with `.js`, as `_scheduled_functions.name` stores it. */
export function backendUdfPath(canonical: string): string {
  const colon = canonical.lastIndexOf(":");
  return `${canonical.slice(0, colon)}.js${canonical.slice(colon)}`;
}
