import type { IncomingMessage } from "node:http";
import { EngineError } from "../errors.js";
import { readJsonBody } from "./request-body.js";

/** A request for a dev-issuer token: who it is for and how long it lives. */
export interface TokenRequest {
  claims: { subject: string; name?: string; email?: string };
  /** Lifetime in seconds; undefined means the issuer's default (one hour). */
  ttlSeconds?: number;
}

/** Longest lifetime a minted token may ask for (30 days): a dev token is not a credential to keep. */
export const MAX_TOKEN_TTL_SECONDS = 30 * 24 * 60 * 60;

/**
 * Reads `{"subject": …, "name"?, "email"?, "ttlSeconds"?}`, the body of
 * `POST /api/admin/token` and `POST /api/dev/token`.
 */
export async function readTokenRequest(req: IncomingMessage): Promise<TokenRequest> {
  const body = (await readJsonBody(req, 1 << 16)) as Record<string, unknown> | null;
  if (body === null || typeof body !== "object" || typeof body.subject !== "string" || body.subject === "") {
    throw new EngineError("BadRequest", "Send {\"subject\": \"user id\"} (optionally \"name\", \"email\" and \"ttlSeconds\").");
  }
  const request: TokenRequest = {
    claims: {
      subject: body.subject,
      name: typeof body.name === "string" ? body.name : undefined,
      email: typeof body.email === "string" ? body.email : undefined,
    },
  };
  if (body.ttlSeconds !== undefined && body.ttlSeconds !== null) {
    request.ttlSeconds = ttlSeconds(body.ttlSeconds);
  }
  return request;
}

/** A token lifetime in seconds: a positive whole number up to {@link MAX_TOKEN_TTL_SECONDS}. */
export function ttlSeconds(raw: unknown): number {
  const n = typeof raw === "string" && raw.trim() !== "" ? Number(raw) : raw;
  if (typeof n !== "number" || !Number.isInteger(n) || n <= 0 || n > MAX_TOKEN_TTL_SECONDS) {
    throw new EngineError("BadRequest", `The token lifetime must be a whole number of seconds from 1 to ${MAX_TOKEN_TTL_SECONDS}, got ${JSON.stringify(raw)}.`);
  }
  return n;
}
