// The token verifier against real issuers over loopback HTTP with real keys:
// what it accepts, every attack it must refuse (and how it says so), and how
// it caches discovery documents and key sets.
import { afterEach, beforeAll, afterAll, describe, expect, it } from "vitest";
import { SignJWT } from "jose";
import { normalizeAuthConfig } from "../src/auth/auth-config.js";
import type { FetchFn } from "../src/auth/fetch-json.js";
import { createKeySetCache } from "../src/auth/key-set-cache.js";
import { createTokenVerifier, DEFAULT_KEY_SET_POLICY, type TokenVerifier } from "../src/auth/token-verifier.js";
import { isEngineError, type EngineError } from "../src/errors.js";
import { startTestIssuer, type TestIssuer, type TestIssuerAlgorithm } from "./support/test-issuer.js";

const fetch: FetchFn = (url, init) => globalThis.fetch(url, init);
let nowMs = Date.parse("2030-01-02T03:04:05Z");
const clock = () => nowMs;
const issuers: TestIssuer[] = [];

async function issuerFor(options: { algorithm?: TestIssuerAlgorithm; audience?: string } = {}): Promise<TestIssuer> {
  const issuer = await startTestIssuer({ ...options, clock });
  issuers.push(issuer);
  return issuer;
}

function verifierFor(providers: unknown[]): TokenVerifier {
  return createTokenVerifier({ config: normalizeAuthConfig({ providers }), fetch, clock });
}

/** Runs `promise`, which must fail with an EngineError, and returns that error. */
async function rejection(promise: Promise<unknown>): Promise<EngineError> {
  const outcome = await promise.then(
    () => new Error("expected a rejection"),
    (e: unknown) => e,
  );
  if (!isEngineError(outcome)) throw outcome;
  return outcome;
}

afterEach(() => {
  nowMs = Date.parse("2030-01-02T03:04:05Z");
});
afterAll(async () => {
  await Promise.all(issuers.map((i) => i.close()));
});

describe("an OIDC provider (as Clerk is configured)", () => {
  let clerk: TestIssuer;
  let verifier: TokenVerifier;
  beforeAll(async () => {
    clerk = await issuerFor();
    verifier = verifierFor([{ domain: clerk.issuer, applicationID: "convex" }]);
  });

  it("accepts a good token and maps its claims to the identity the app sees", async () => {
    const token = await clerk.mint({
      sub: "user_2abc", name: "Ada Lovelace", given_name: "Ada", family_name: "Lovelace",
      nickname: "ada", preferred_username: "ada_l", picture: "https://img.example/a.png",
      email: "ada@example.com", email_verified: true, phone_number_verified: "false",
      address: { formatted: "12 St James's Square, London" }, updated_at: 1704067200,
      locale: "en-GB", "name#fr": "Ada L.", jti: "j1", nbf: nowMs / 1000 - 10, fva: [1, -1], azp: "http://localhost:5173",
      sid: "sess_1", org: { id: "org_1" }, role: "admin",
    });
    const { identity, expiresAt } = await verifier.authenticate(token);
    expect(identity).toEqual({
      tokenIdentifier: `${clerk.issuer}|user_2abc`, issuer: clerk.issuer, subject: "user_2abc",
      name: "Ada Lovelace", givenName: "Ada", familyName: "Lovelace", nickname: "ada", preferredUsername: "ada_l",
      pictureUrl: "https://img.example/a.png", email: "ada@example.com", emailVerified: true,
      phoneNumberVerified: false, address: "12 St James's Square, London",
      updatedAt: "2024-01-01T00:00:00+00:00", language: "en-GB",
      sid: "sess_1", org: { id: "org_1" }, role: "admin",
    });
    expect(expiresAt).toBe(nowMs + 3600_000);
  });

  it("matches the configured domain regardless of trailing slashes", async () => {
    const slashy = verifierFor([{ domain: `${clerk.issuer}/`, applicationID: "convex" }]);
    await expect(slashy.verify(await clerk.mint({ iss: `${clerk.issuer}/` }))).resolves.toMatchObject({ subject: "user_test" });
    await expect(slashy.verify(await clerk.mint())).resolves.toMatchObject({ issuer: clerk.issuer });
  });

  const attacks: [string, (i: TestIssuer) => Promise<string>, string, RegExp][] = [
    ["a payload altered after signing", (i) => i.mintTampered(), "InvalidTokenSignature", /signature does not verify/],
    ["a foreign key claiming the issuer's kid", (i) => i.mintForged(), "InvalidTokenSignature", /signature does not verify/],
    ["an expired token", (i) => i.mintExpired(), "TokenExpired", /expired at 2030-01-02T02:54:05.000Z \(now 2030-01-02T03:04:05.000Z, leeway 5 s\)/],
    ["a token not valid yet", (i) => i.mintNotYetValid(), "TokenNotYetValid", /not valid before 2030-01-02T03:14:05.000Z/],
    ["another issuer's token", (i) => i.mintWrongIssuer(), "NoAuthProvider", /issuer "https:\/\/evil.example.com" is not one of the configured issuers: http:\/\/127/],
    ["a token for another audience", (i) => i.mintWrongAudience(), "NoAuthProvider", /audience "someone-else" does not contain the applicationID "convex"/],
    ["an unsigned token (alg none)", (i) => i.mintUnsigned(), "InvalidAuthHeader", /unsigned \(`alg: none`\)/],
    ["a key the issuer does not publish", (i) => i.mintWithUnknownKey(), "UnknownSigningKey", /No key of http:\/\/127.0.0.1:\d+ matches the token's kid "test-/],
    ["an HMAC token (algorithm confusion)", (i) => hmacToken(i), "InvalidAuthHeader", /signed with "HS256", which is not accepted; accepted: RS256/],
    ["a token without subject", (i) => i.mint({ sub: undefined }), "InvalidAuthHeader", /no `sub` claim/],
    ["a token without expiry", (i) => i.mint({ exp: undefined }), "InvalidAuthHeader", /no `exp` claim/],
    ["a token with several audiences", (i) => i.mint({ aud: ["convex", "other"] }), "InvalidTokenClaims", /several audiences/],
    ["a token with a mistyped standard claim", (i) => i.mint({ email_verified: "yes" }), "InvalidTokenClaims", /`email_verified` claim must be a boolean/],
    ["something that is not a JWT", async () => "not-a-token", "InvalidAuthHeader", /not a JWT/],
  ];
  it.each(attacks)("refuses %s with a clear error", async (_name, make, code, message) => {
    const token = await make(clerk);
    const error = await rejection(verifier.verify(token));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
    // Messages are shown to clients and logged: never the token or its signature.
    expect(error.message).not.toContain(token);
    const signature = token.split(".")[2];
    if (signature) expect(error.message).not.toContain(signature);
  });

  it("tolerates 5 s of clock skew and no more", async () => {
    const expiresSoon = await clerk.mint({ exp: Math.floor(nowMs / 1000) + 1 });
    nowMs += 4_000;
    await expect(verifier.verify(expiresSoon)).resolves.toMatchObject({ subject: "user_test" });
    nowMs += 3_000;
    expect((await rejection(verifier.verify(expiresSoon))).code).toBe("TokenExpired");
    const startsSoon = await clerk.mint({ nbf: Math.floor(nowMs / 1000) + 4 });
    await expect(verifier.verify(startsSoon)).resolves.toMatchObject({ subject: "user_test" });
  });

  it("says which providers were skipped when none matches", async () => {
    const unset = verifierFor([{ domain: undefined, applicationID: "convex" }]);
    const error = await rejection(unset.verify(await clerk.mint()));
    expect(error.code).toBe("NoAuthProvider");
    expect(error.message).toMatch(/configures no auth provider\. Skipped providers: Auth provider #0: `domain` is undefined.*CLERK_JWT_ISSUER_DOMAIN/);
  });
});

it.each(["ES256", "EdDSA"] as const)("accepts OIDC tokens signed with %s", async (algorithm) => {
  const issuer = await issuerFor({ algorithm });
  const verifier = verifierFor([{ domain: issuer.issuer, applicationID: "convex" }]);
  await expect(verifier.verify(await issuer.mint({ sub: "u1" }))).resolves.toMatchObject({ subject: "u1" });
  expect((await rejection(verifier.verify(await issuer.mintTampered()))).code).toBe("InvalidTokenSignature");
});

describe("discovery and JWKS caching", () => {
  it("fetches discovery and JWKS once for many verifications, even concurrent ones on a cold cache", async () => {
    const issuer = await issuerFor();
    const verifier = verifierFor([{ domain: issuer.issuer, applicationID: "convex" }]);
    const tokens = await Promise.all(Array.from({ length: 10 }, (_, n) => issuer.mint({ sub: `u${n}` })));
    const identities = await Promise.all(tokens.map((t) => verifier.verify(t)));
    expect(identities.map((i) => i.subject)).toEqual(tokens.map((_, n) => `u${n}`));
    await verifier.verify(await issuer.mint());
    expect(issuer.requests).toEqual({ discovery: 1, jwks: 1 });
    nowMs += 11 * 60_000; // past the 10-minute maximum age
    await verifier.verify(await issuer.mint());
    expect(issuer.requests).toEqual({ discovery: 2, jwks: 2 });
  });

  it("refetches the JWKS when a token is signed by a newly rotated key", async () => {
    const issuer = await issuerFor();
    const verifier = verifierFor([{ domain: issuer.issuer, applicationID: "convex" }]);
    await verifier.verify(await issuer.mint());
    const oldToken = await issuer.mint();
    await issuer.rotateKey();
    await expect(verifier.verify(await issuer.mint({ sub: "after-rotation" }))).resolves.toMatchObject({ subject: "after-rotation" });
    expect(issuer.requests).toEqual({ discovery: 1, jwks: 2 });
    await expect(verifier.verify(oldToken)).resolves.toMatchObject({ subject: "user_test" });
    // Without a kid both published keys qualify: the old one is tried first and fails, the new one verifies.
    await expect(verifier.verify(await issuer.mintWithoutKid({ sub: "no-kid" }))).resolves.toMatchObject({ subject: "no-kid" });
    expect(issuer.requests).toEqual({ discovery: 1, jwks: 2 });
  });

  it("shares fetched keys between verifiers given the same cache (e.g. across dev reloads)", async () => {
    const issuer = await issuerFor();
    const keySets = createKeySetCache({ fetch, clock, policy: DEFAULT_KEY_SET_POLICY });
    const providers = normalizeAuthConfig({ providers: [{ domain: issuer.issuer, applicationID: "convex" }] });
    for (let reload = 0; reload < 3; reload++) {
      const verifier = createTokenVerifier({ config: providers, fetch, clock, keySets });
      await verifier.verify(await issuer.mint());
    }
    expect(issuer.requests).toEqual({ discovery: 1, jwks: 1 });
  });

  it("refreshes for unknown kids at most once per 30 s, so a flood of bad kids cannot hammer the issuer", async () => {
    const issuer = await issuerFor({ algorithm: "ES256" }); // cheap keys: the test makes 21 of them
    const verifier = verifierFor([{ domain: issuer.issuer, applicationID: "convex" }]);
    await verifier.verify(await issuer.mint());
    const errors = [];
    for (let n = 0; n < 20; n++) errors.push(await rejection(verifier.verify(await issuer.mintWithUnknownKey())));
    expect(errors.every((e) => e.code === "UnknownSigningKey")).toBe(true);
    expect(errors[0]!.message).toMatch(/It was refetched just now\./);
    expect(errors[19]!.message).toMatch(/It was not refetched: an unknown kid made it refetch the key set 0 s ago, and that happens at most every 30 s/);
    expect(issuer.requests.jwks).toBe(2);
    nowMs += 31_000;
    await rejection(verifier.verify(await issuer.mintWithUnknownKey()));
    expect(issuer.requests).toEqual({ discovery: 1, jwks: 3 });
  });

  it("keeps verifying with cached keys while the issuer is down, and fails clearly without them", async () => {
    const issuer = await issuerFor();
    const verifier = verifierFor([{ domain: issuer.issuer, applicationID: "convex" }]);
    await verifier.verify(await issuer.mint());
    issuer.setFailure(503);
    nowMs += 11 * 60_000;
    await expect(verifier.verify(await issuer.mint({ sub: "still-in" }))).resolves.toMatchObject({ subject: "still-in" });
    const cold = verifierFor([{ domain: issuer.issuer, applicationID: "convex" }]);
    const error = await rejection(cold.verify(await issuer.mint()));
    expect([error.code, error.recovery]).toEqual(["AuthProviderUnreachable", "transient"]);
    expect(error.message).toMatch(/discovery document of http:\/\/127.0.0.1:\d+ .* failed with HTTP 503/);
  });

  it("reports a domain that serves no discovery document as misconfigured", async () => {
    const issuer = await issuerFor();
    const verifier = verifierFor([{ domain: `${issuer.issuer}/tenant`, applicationID: "convex" }]);
    const error = await rejection(verifier.verify(await issuer.mint({ iss: `${issuer.issuer}/tenant` })));
    expect(error.code).toBe("AuthProviderMisconfigured");
    expect(error.message).toMatch(/\/tenant\/.well-known\/openid-configuration failed with HTTP 404/);
  });
});

it("refuses keys from a discovery document that names another issuer", async () => {
  const issuer = await issuerFor();
  // An in-process stand-in: a mirror at https://mirror.example serving the real issuer's discovery document.
  const mirror: FetchFn = async (url) => {
    expect(url).toBe("https://mirror.example/.well-known/openid-configuration");
    return Response.json({ issuer: issuer.issuer, jwks_uri: issuer.jwksUrl });
  };
  const config = normalizeAuthConfig({ providers: [{ domain: "mirror.example", applicationID: "convex" }] });
  const verifier = createTokenVerifier({ config, fetch: mirror, clock });
  const error = await rejection(verifier.verify(await issuer.mint({ iss: "https://mirror.example" })));
  expect(error.code).toBe("AuthProviderMisconfigured");
  expect(error.message).toMatch(/names issuer "http:\/\/127.0.0.1:\d+", not https:\/\/mirror.example/);
});

describe("a customJwt provider", () => {
  it("verifies against its JWKS URL without discovery and keeps every non-registered claim, flattened", async () => {
    const issuer = await issuerFor({ algorithm: "ES256", audience: "my-app" });
    const verifier = verifierFor([{ type: "customJwt", issuer: issuer.issuer, jwks: issuer.jwksUrl, algorithm: "ES256", applicationID: "my-app" }]);
    const token = await issuer.mint({ sub: "u7", email: "u7@example.com", name: "Seven", org: { id: "o1", role: { name: "owner" } }, tags: ["a", "b"], jti: "x" });
    expect(await verifier.verify(token)).toEqual({
      tokenIdentifier: `${issuer.issuer}|u7`, issuer: issuer.issuer, subject: "u7",
      email: "u7@example.com", name: "Seven", "org.id": "o1", "org.role.name": "owner", tags: ["a", "b"],
    });
    expect(issuer.requests).toEqual({ discovery: 0, jwks: 1 });
    expect((await rejection(verifier.verify(await issuer.mintWrongAudience()))).code).toBe("NoAuthProvider");
    expect((await rejection(verifier.verify(await issuer.mint({ iat: Math.floor(nowMs / 1000) + 60 })))).code).toBe("TokenNotYetValid");
  });

  it("accepts only the configured algorithm", async () => {
    const issuer = await issuerFor({ algorithm: "ES256" });
    const verifier = verifierFor([{ type: "customJwt", issuer: issuer.issuer, jwks: issuer.jwksUrl, algorithm: "RS256" }]);
    const error = await rejection(verifier.verify(await issuer.mint()));
    expect(error.code).toBe("InvalidAuthHeader");
    expect(error.message).toMatch(/signed with "ES256", which is not accepted by the customJwt provider .*; accepted: RS256/);
  });

  it("uses keys inlined as a data: URL without any HTTP request, and accepts any audience when applicationID is unset", async () => {
    const issuer = await issuerFor();
    const verifier = verifierFor([{ type: "customJwt", issuer: issuer.issuer, jwks: issuer.jwksDataUrl(), algorithm: "RS256" }]);
    await expect(verifier.verify(await issuer.mint({ aud: "anything" }))).resolves.toMatchObject({ subject: "user_test" });
    const error = await rejection(verifier.verify(await issuer.mintWithUnknownKey()));
    expect(error.code).toBe("UnknownSigningKey");
    expect(error.message).toMatch(/inlined in convex\/auth.config.ts/);
    expect(issuer.requests).toEqual({ discovery: 0, jwks: 0 });
  });
});

/** An HS256 token keyed with the issuer's public JWKS text: the classic RS256/HS256 confusion attack. */
async function hmacToken(issuer: TestIssuer): Promise<string> {
  const secret = new TextEncoder().encode(JSON.stringify(await (await globalThis.fetch(issuer.jwksUrl)).json()));
  const now = Math.floor(nowMs / 1000);
  return new SignJWT({ iss: issuer.issuer, aud: "convex", sub: "admin", iat: now, exp: now + 60 })
    .setProtectedHeader({ alg: "HS256" })
    .sign(secret);
}
