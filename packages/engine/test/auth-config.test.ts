// auth.config.ts as an app writes it, turned into providers the verifier can
// use; and the claim-to-identity rules for the cases a live issuer rarely sends.
import { describe, expect, it } from "vitest";
import { normalizeAuthConfig, normalizeIssuer } from "../src/auth/auth-config.js";
import { identityFromCustomJwtClaims, identityFromOidcClaims } from "../src/auth/user-identity.js";
import { isEngineError } from "../src/errors.js";

const JWKS = { keys: [{ kty: "EC", crv: "P-256", x: "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", y: "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0", kid: "k1" }] };

describe("normalizeAuthConfig", () => {
  it("adds https:// to a domain without scheme and drops trailing slashes", () => {
    expect(normalizeIssuer(" clerk.example.com/ ")).toBe("https://clerk.example.com");
    expect(normalizeIssuer("http://127.0.0.1:3210/dev-auth//")).toBe("http://127.0.0.1:3210/dev-auth");
    const config = normalizeAuthConfig({
      providers: [
        { domain: "clerk.example.com/", applicationID: "convex" },
        { type: "customJwt", issuer: "https://auth.example.com/", jwks: "https://auth.example.com/jwks.json", algorithm: "RS256" },
      ],
    });
    expect(config).toEqual({
      providers: [
        { kind: "oidc", issuer: "https://clerk.example.com", applicationID: "convex" },
        {
          kind: "customJwt", issuer: "https://auth.example.com", applicationID: null, algorithm: "RS256",
          jwks: { kind: "url", url: "https://auth.example.com/jwks.json" },
        },
      ],
      problems: [],
    });
  });

  it("decodes a data: JWKS, base64 or percent-encoded", () => {
    const base64 = `data:text/plain;charset=utf-8;base64,${Buffer.from(JSON.stringify(JWKS)).toString("base64")}`;
    const percent = `data:application/json,${encodeURIComponent(JSON.stringify(JWKS))}`;
    for (const jwks of [base64, percent]) {
      const { providers } = normalizeAuthConfig({ providers: [{ type: "customJwt", issuer: "a.example", jwks, algorithm: "ES256", applicationID: "app" }] });
      expect(providers[0]).toMatchObject({ issuer: "https://a.example", applicationID: "app", jwks: { kind: "inline", keySet: JWKS } });
    }
  });

  it("reports, without throwing, a provider whose env var is unset and keeps the others", () => {
    const config = normalizeAuthConfig({
      providers: [
        { domain: undefined, applicationID: "convex" },
        { domain: "", applicationID: "convex" },
        { domain: "https://ok.example.com", applicationID: "convex" },
        { domain: "https://no-app.example.com" },
        { type: "customJwt", issuer: "https://x.example.com", jwks: "data:,not-json", algorithm: "RS256" },
        { type: "customJwt", issuer: "https://y.example.com", jwks: "https://y.example.com/jwks", algorithm: "HS256" },
        { type: "saml" },
      ],
    });
    expect(config.providers).toEqual([{ kind: "oidc", issuer: "https://ok.example.com", applicationID: "convex" }]);
    expect(config.problems.map((p) => p.index)).toEqual([0, 1, 3, 4, 5, 6]);
    expect(config.problems[0]!.message).toBe(
      "Auth provider #0: `domain` is undefined. If it comes from an environment variable " +
        "(e.g. process.env.CLERK_JWT_ISSUER_DOMAIN), set that variable on the deployment.",
    );
    expect(config.problems[1]!.message).toMatch(/`domain` is empty/);
    expect(config.problems[2]!.message).toMatch(/needs a non-empty `applicationID`/);
    expect(config.problems[3]!.message).toMatch(/data: URL does not hold a JSON Web Key Set/);
    expect(config.problems[4]!.message).toMatch(/algorithm "HS256"; use "RS256" or "ES256"/);
    expect(config.problems[5]!.message).toMatch(/unknown type "saml"/);
  });

  it("treats a missing auth.config.ts as no providers and a malformed one as an error", () => {
    expect(normalizeAuthConfig(null)).toEqual({ providers: [], problems: [] });
    let thrown: unknown;
    try {
      normalizeAuthConfig({ provider: [] });
    } catch (e) {
      thrown = e;
    }
    expect(isEngineError(thrown, "InvalidAuthConfig")).toBe(true);
  });
});

describe("claims to identity", () => {
  const base = { iss: "https://i.example", sub: "s", aud: "convex", iat: 1, exp: 2 };

  it("renders updated_at as RFC 3339 from seconds or from a date string (Auth0)", () => {
    expect(identityFromOidcClaims({ ...base, updated_at: 1704067200.5 }).updatedAt).toBe("2024-01-01T00:00:00.500+00:00");
    expect(identityFromOidcClaims({ ...base, updated_at: "2023-06-01T12:00:00.000Z" }).updatedAt).toBe("2023-06-01T12:00:00+00:00");
  });

  it("never lets a custom claim overwrite the identity's own fields", () => {
    const forged = { ...base, tokenIdentifier: "other|admin", subject: "admin", issuer: "x" };
    expect(identityFromOidcClaims(forged)).toEqual({ tokenIdentifier: "https://i.example|s", issuer: "https://i.example", subject: "s" });
    expect(identityFromCustomJwtClaims(forged)).toEqual({ tokenIdentifier: "https://i.example|s", issuer: "https://i.example", subject: "s" });
  });

  it("omits an address without a formatted line and refuses a mistyped one", () => {
    expect(identityFromOidcClaims({ ...base, address: { country: "UK" } })).not.toHaveProperty("address");
    let thrown: unknown;
    try {
      identityFromOidcClaims({ ...base, address: "London" });
    } catch (e) {
      thrown = e;
    }
    expect(isEngineError(thrown, "InvalidTokenClaims")).toBe(true);
  });
});
