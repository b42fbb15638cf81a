/**
 * The SHA-256 an upload's `Digest: sha-256=<base64>` header promises
 * (RFC 3230; several `alg=value` pairs may be listed). Null when the header
 * is absent or names no SHA-256.
 */
export function sha256FromDigestHeader(header: string | string[] | undefined): string | null {
  const text = Array.isArray(header) ? header.join(",") : header;
  if (text === undefined) return null;
  for (const part of text.split(",")) {
    const eq = part.indexOf("=");
    if (eq === -1) continue;
    if (part.slice(0, eq).trim().toLowerCase() === "sha-256") return part.slice(eq + 1).trim();
  }
  return null;
}

/**
 * True when `expected` names the digest `actual`. Convex documents base64 for
 * the header; `storage.store`'s option is undocumented, so hex is accepted too.
 */
export function digestMatches(expected: string, actual: Buffer): boolean {
  return expected === actual.toString("base64") || expected.toLowerCase() === actual.toString("hex");
}
