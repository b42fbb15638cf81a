import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";
import { base64url, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from "jose";

/** Signature algorithms the test issuer can sign with. */
export type TestIssuerAlgorithm = "RS256" | "ES256" | "EdDSA";

/** Claims for a test token; `undefined` removes a default claim (e.g. `{ exp: undefined }`). */
export type TestClaims = Record<string, unknown>;

/**
 * A standalone OIDC issuer on 127.0.0.1, as Clerk would be: it serves discovery
 * and JWKS over real HTTP, counts the requests, and mints good tokens and the
 * bad ones of the verifier's attack table.
 */
export interface TestIssuer {
  /** `http://127.0.0.1:<port>`: the `iss` of its tokens and the OIDC `domain`. */
  readonly issuer: string;
  /** Default `aud` of its tokens. */
  readonly audience: string;
  /** Where it serves its JWKS (also usable as a customJwt provider's `jwks`). */
  readonly jwksUrl: string;
  /** `kid` of the key `mint` currently signs with. */
  readonly kid: string;
  /** How many times each document was requested. */
  readonly requests: { discovery: number; jwks: number };
  /** A valid token: `iss`, `aud`, `sub: "user_test"`, `iat` now, `exp` in one hour, then `claims` on top. */
  mint(claims?: TestClaims): Promise<string>;
  /** A token whose payload was changed (`sub: "admin"`) after signing: bad signature. */
  mintTampered(claims?: TestClaims): Promise<string>;
  /** A token signed by a foreign key that claims the issuer's current `kid`. */
  mintForged(claims?: TestClaims): Promise<string>;
  /** A token that expired ten minutes ago. */
  mintExpired(claims?: TestClaims): Promise<string>;
  /** A token whose `nbf` is ten minutes ahead. */
  mintNotYetValid(claims?: TestClaims): Promise<string>;
  /** A correctly signed token naming another issuer. */
  mintWrongIssuer(claims?: TestClaims): Promise<string>;
  /** A correctly signed token for another audience. */
  mintWrongAudience(claims?: TestClaims): Promise<string>;
  /** An unsigned token (`alg: none`, empty signature). */
  mintUnsigned(claims?: TestClaims): Promise<string>;
  /** A valid token signed by the current key, with no `kid` in its header. */
  mintWithoutKid(claims?: TestClaims): Promise<string>;
  /** A token signed by a key whose `kid` is not in the JWKS. */
  mintWithUnknownKey(claims?: TestClaims): Promise<string>;
  /** Adds a new key to the JWKS (dropping the old ones if asked); `mint` signs with it from now on. Returns its kid. */
  rotateKey(options?: { dropOld?: boolean }): Promise<string>;
  /** The current JWKS as a `data:` URL, for customJwt providers with inline keys. */
  jwksDataUrl(): string;
  /** Makes every later request answer this HTTP status (null: serve normally again). */
  setFailure(status: number | null): void;
  /** Stops the server. */
  close(): Promise<void>;
}

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

/** Starts a test issuer on a free port of 127.0.0.1. `clock` (ms) sets `iat`/`exp`; default `Date.now`. */
export async function startTestIssuer(
  options: { algorithm?: TestIssuerAlgorithm; audience?: string; clock?: () => number } = {},
): Promise<TestIssuer> {
  const algorithm = options.algorithm ?? "RS256";
  const audience = options.audience ?? "convex";
  const clock = options.clock ?? Date.now;
  const requests = { discovery: 0, jwks: 0 };
  let failure: number | null = null;
  let keys: SigningKey[] = [await newKey(algorithm)];
  const current = () => keys[keys.length - 1]!;

  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
    let body: unknown;
    if (path === "/.well-known/openid-configuration") {
      requests.discovery += 1;
      body = {
        issuer,
        jwks_uri: `${issuer}/.well-known/jwks.json`,
        authorization_endpoint: `${issuer}/authorize`,
        response_types_supported: ["id_token"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: [algorithm],
      };
    } else if (path === "/.well-known/jwks.json") {
      requests.jwks += 1;
      body = { keys: keys.map((k) => k.publicJwk) };
    }
    if (failure !== null || body === undefined) {
      res.writeHead(failure ?? 404).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const claimsWith = (overrides: TestClaims = {}): Record<string, unknown> => {
    const now = Math.floor(clock() / 1000);
    const defaults = { iss: issuer, aud: audience, sub: "user_test", iat: now, exp: now + 3600 };
    const merged: Record<string, unknown> = { ...defaults, ...overrides };
    return Object.fromEntries(Object.entries(merged).filter(([, v]) => v !== undefined));
  };
  const sign = (claims: Record<string, unknown>, key: SigningKey = current()) =>
    new SignJWT(claims).setProtectedHeader({ alg: algorithm, kid: key.kid, typ: "JWT" }).sign(key.privateKey);
  const now = () => Math.floor(clock() / 1000);

  return {
    issuer,
    audience,
    jwksUrl: `${issuer}/.well-known/jwks.json`,
    get kid() {
      return current().kid;
    },
    requests,
    mint: (claims) => sign(claimsWith(claims)),
    async mintTampered(claims) {
      const [header, , signature] = (await sign(claimsWith(claims))).split(".");
      const forgedPayload = base64url.encode(JSON.stringify(claimsWith({ ...claims, sub: "admin" })));
      return `${header}.${forgedPayload}.${signature}`;
    },
    async mintForged(claims) {
      const impostor = await newKey(algorithm);
      return sign(claimsWith(claims), { ...impostor, kid: current().kid });
    },
    mintExpired: (claims) => sign(claimsWith({ iat: now() - 4200, exp: now() - 600, ...claims })),
    mintNotYetValid: (claims) => sign(claimsWith({ nbf: now() + 600, ...claims })),
    mintWrongIssuer: (claims) => sign(claimsWith({ iss: "https://evil.example.com", ...claims })),
    mintWrongAudience: (claims) => sign(claimsWith({ aud: "someone-else", ...claims })),
    async mintUnsigned(claims) {
      const header = base64url.encode(JSON.stringify({ alg: "none", typ: "JWT" }));
      return `${header}.${base64url.encode(JSON.stringify(claimsWith(claims)))}.`;
    },
    mintWithoutKid: (claims) =>
      new SignJWT(claimsWith(claims)).setProtectedHeader({ alg: algorithm, typ: "JWT" }).sign(current().privateKey),
    async mintWithUnknownKey(claims) {
      return sign(claimsWith(claims), await newKey(algorithm));
    },
    async rotateKey({ dropOld = false } = {}) {
      const key = await newKey(algorithm);
      keys = dropOld ? [key] : [...keys, key];
      return key.kid;
    },
    jwksDataUrl() {
      const json = JSON.stringify({ keys: keys.map((k) => k.publicJwk) });
      return `data:application/json;base64,${Buffer.from(json).toString("base64")}`;
    },
    setFailure(status) {
      failure = status;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function newKey(algorithm: TestIssuerAlgorithm): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(algorithm, { extractable: true });
  const kid = `test-${randomBytes(6).toString("hex")}`;
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: algorithm, use: "sig" } };
}
