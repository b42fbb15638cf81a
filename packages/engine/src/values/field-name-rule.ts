/**
 * Convex's rule for a field name (`validateObjectField` in `convex/values`): at most 1024
 * characters, printable ASCII only, not starting with `$`. Upstream keeps it private; the
 * engine's validators, result encoding and document copies ask it here.
 */
export function isConvexFieldName(name: string): boolean {
  if (name.length > 1024 || name.charCodeAt(0) === 0x24 /* $ */) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 32 || c >= 127) return false;
  }
  return true;
}
