import type { Identity } from "../runtime/services.js";
import { protocolError, type AuthenticateMessage } from "./client-message.js";
import type { AuthenticateSession } from "./session-auth.js";
import { TokenExpiry } from "./token-expiry.js";

/** What a connection's auth state reports back to its session. */
export interface ConnectionAuthDeps {
  authenticate: AuthenticateSession;
  /** Wall clock, ms since the epoch (token expiry). */
  wallClock: () => number;
  /** The token was refused, has expired, or no longer passes: AuthError, then close (§5.6). */
  authFailed(error: string, attempted: boolean, baseVersion: number): void;
}

/**
 * Who one connection acts as: the identity of its last accepted Authenticate, the count
 * of Authenticate messages (the identity version of its Transitions), the token's expiry
 * timer, and the re-check of the user token when the auth configuration changes.
 * Runs on the sync server's thread, in the session's message order.
 */
export class ConnectionAuth {
  identity: Identity | null = null;
  admin = false;
  /** Authenticate messages accepted so far. */
  version = 0;
  /** The user token the identity came from, verified again when the auth configuration changes. */
  private userToken: string | null = null;
  /** Settles when the current identity has been checked against the latest auth configuration. */
  private check: Promise<void> = Promise.resolve();
  private readonly expiry: TokenExpiry;

  constructor(private readonly deps: ConnectionAuthDeps) {
    this.expiry = new TokenExpiry(deps.wallClock, () => deps.authFailed("The authentication token has expired.", false, this.version));
  }

  /** Mutations and actions wait for this: a re-verification of the identity they run as comes first. */
  get checked(): Promise<void> {
    return this.check;
  }

  /**
   * Verifies an Authenticate message's token; true when it was accepted (the identity and
   * its version changed). A refused token has already been reported through `authFailed`.
   */
  async authenticate(message: AuthenticateMessage): Promise<boolean> {
    if (message.baseVersion !== this.version) {
      throw protocolError(
        "BaseVersionMismatch",
        `Authenticate has baseVersion ${message.baseVersion}, but ${this.version} Authenticate messages were received.`,
      );
    }
    let verified;
    try {
      verified = await this.deps.authenticate(message);
    } catch (e) {
      // The rejected message's own version always passes the client's staleness check (§5.6).
      this.deps.authFailed(e instanceof Error ? e.message : String(e), true, message.baseVersion);
      return false;
    }
    this.version += 1;
    this.identity = verified.identity;
    this.admin = verified.admin;
    this.userToken = message.tokenType === "User" ? message.value : null;
    this.expiry.arm(verified.expiresAt);
    return true;
  }

  /**
   * The auth configuration changed: the user token is verified again, and a token the new
   * configuration refuses ends the session with AuthError, as an expired one does.
   */
  reverify(): void {
    const token = this.userToken;
    if (token === null) return;
    const version = this.version;
    this.check = this.deps.authenticate({ tokenType: "User", value: token }).then(
      (verified) => {
        // A later Authenticate replaced the token meanwhile; its own check stands.
        if (this.userToken === token) this.expiry.arm(verified.expiresAt);
      },
      (e: unknown) => {
        if (this.userToken === token && this.version === version) {
          this.deps.authFailed(e instanceof Error ? e.message : String(e), false, this.version);
        }
      },
    );
  }

  dispose(): void {
    this.expiry.clear();
  }
}
