/**
 * How a caller recovers from an error: fix the request (`client`), try again
 * later (`transient`), retry after re-reading (`conflict`), or give up (`fatal`).
 */
export type Recovery = "client" | "transient" | "conflict" | "fatal";

/** The one error type the engine throws. `code` is stable and machine-readable. */
export class EngineError extends Error {
  readonly code: string;
  readonly recovery: Recovery;

  constructor(code: string, message: string, recovery: Recovery = "client") {
    super(message);
    this.name = "EngineError";
    this.code = code;
    this.recovery = recovery;
  }
}

/** True when `e` is an EngineError, optionally with the given code. */
export function isEngineError(e: unknown, code?: string): e is EngineError {
  return e instanceof EngineError && (code === undefined || e.code === code);
}
