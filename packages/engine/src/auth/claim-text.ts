/**
 * A claim value for an error message: JSON, cut short, because a token is
 * attacker-controlled input and messages end up in logs and client errors.
 */
export function showClaim(value: unknown): string {
  const text = value === undefined ? "(none)" : JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** A NumericDate claim (seconds since the epoch) as an ISO timestamp for messages. */
export function isoTime(seconds: unknown): string {
  return typeof seconds === "number" && Number.isFinite(seconds) ? new Date(seconds * 1000).toISOString() : showClaim(seconds);
}
