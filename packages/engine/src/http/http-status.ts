import { EngineError } from "../errors.js";

/**
 * HTTP statuses are chosen here and only here, from an error's code and
 * recovery class (docs/architecture.md).
 */
const STATUS_BY_CODE: Record<string, number> = {
  PayloadTooLarge: 413,
  BadJsonBody: 400,
  BadRequest: 400,
  InvalidAuthHeader: 401,
  Unauthenticated: 401,
  NoAuthProvider: 401,
  TokenExpired: 401,
  TokenNotYetValid: 401,
  InvalidTokenSignature: 401,
  UnknownSigningKey: 401,
  InvalidTokenClaims: 401,
  BadAdminKey: 401,
  AuthProviderUnreachable: 503,
  Forbidden: 403,
  CrossOriginForbidden: 403,
  AdminKeyRequired: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  StorageFileNotFound: 404,
  UploadTokenInvalid: 400,
  UnsupportedMediaType: 415,
};

/** The status for an error raised outside a function (a function's own errors are 200). */
export function statusForError(e: unknown): number {
  if (e instanceof EngineError) {
    const byCode = STATUS_BY_CODE[e.code];
    if (byCode !== undefined) return byCode;
    if (e.code.startsWith("Auth")) return 401;
    switch (e.recovery) {
      case "client":
        return 400;
      case "transient":
        return 503;
      case "conflict":
        return 409;
      case "fatal":
        return 500;
    }
  }
  return 500;
}

/** The `{code, message}` body of a non-function error; internals never leak. */
export function errorBody(e: unknown): { code: string; message: string } {
  if (e instanceof EngineError) return { code: e.code, message: e.message };
  return { code: "InternalServerError", message: "Your request couldn't be completed. Try again later." };
}
