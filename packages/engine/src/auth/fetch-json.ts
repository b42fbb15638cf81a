import { authError } from "./auth-errors.js";

/** The subset of `fetch` the auth layer uses; injected so tests and the engine can route requests. */
export type FetchFn = (url: string, init?: RequestInit) => Promise<Response>;

/**
 * GETs a JSON document from an identity provider. `what` names the document
 * in errors ("discovery document of https://clerk.example.com"). Failures the
 * provider may recover from (network, timeout, 429, 5xx) are
 * `AuthProviderUnreachable`; answers that will not improve by retrying
 * (404, not JSON) are `AuthProviderMisconfigured`.
 */
export async function fetchJson(fetch: FetchFn, url: string, what: string, timeoutMs: number): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { accept: "application/json, application/jwk-set+json" },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    const reason = e instanceof Error && e.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : describe(e);
    throw authError("AuthProviderUnreachable", `Could not fetch the ${what} from ${url}: ${reason}.`);
  }
  if (!response.ok) {
    // Drain the body so the connection can be reused; its text is not shown (it may be a large HTML page).
    await response.body?.cancel().catch(() => undefined);
    const transient = response.status === 429 || response.status >= 500;
    throw authError(
      transient ? "AuthProviderUnreachable" : "AuthProviderMisconfigured",
      `Fetching the ${what} from ${url} failed with HTTP ${response.status}.`,
    );
  }
  const text = await response.text().catch((e: unknown) => {
    throw authError("AuthProviderUnreachable", `Reading the ${what} from ${url} failed: ${describe(e)}.`);
  });
  try {
    return JSON.parse(text) as unknown;
  } catch {
    const type = response.headers.get("content-type") ?? "no content-type";
    throw authError("AuthProviderMisconfigured", `The ${what} at ${url} is not JSON (${type}).`);
  }
}

function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  // undici reports "fetch failed" and keeps the useful part (ECONNREFUSED, ENOTFOUND) in `cause`.
  const cause = (e as Error & { cause?: unknown }).cause;
  return cause instanceof Error ? `${e.message} (${cause.message})` : e.message;
}
