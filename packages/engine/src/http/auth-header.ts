import type { IncomingHttpHeaders } from "node:http";
import { EngineError } from "../errors.js";

/** Who an HTTP request says it is, before any verification. */
export type Credentials =
  | { kind: "none" }
  | { kind: "bearer"; token: string }
  /** `Convex <adminKey>[:<base64 identity JSON>]`, as `ConvexHttpClient.setAdminAuth` sends it. */
  | { kind: "admin"; key: string; actingAs: Record<string, unknown> | null };

/** Parses the `Authorization` header; a malformed one is a client error. */
export function parseAuthorization(headers: IncomingHttpHeaders | Headers): Credentials {
  const raw = headers instanceof Headers ? headers.get("authorization") : headers.authorization;
  if (raw === undefined || raw === null || raw.trim() === "") return { kind: "none" };
  const value = raw.trim();
  const space = value.indexOf(" ");
  const scheme = space === -1 ? value : value.slice(0, space);
  const rest = space === -1 ? "" : value.slice(space + 1).trim();
  if (scheme.toLowerCase() === "bearer" && rest) return { kind: "bearer", token: rest };
  if (scheme === "Convex" && rest) {
    const colon = rest.indexOf(":");
    if (colon === -1) return { kind: "admin", key: rest, actingAs: null };
    const key = rest.slice(0, colon);
    try {
      const identity = JSON.parse(Buffer.from(rest.slice(colon + 1), "base64").toString("utf8"));
      if (typeof identity !== "object" || identity === null) throw new Error("not an object");
      return { kind: "admin", key, actingAs: identity as Record<string, unknown> };
    } catch {
      throw new EngineError("InvalidAuthHeader", "The acting-as identity after the admin key is not base64 JSON.");
    }
  }
  throw new EngineError("InvalidAuthHeader", "The Authorization header must be `Bearer <JWT>` or `Convex <admin key>`.");
}
