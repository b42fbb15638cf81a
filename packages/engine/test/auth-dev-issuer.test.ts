// The engine as its own OIDC issuer: its documents are served over loopback
// HTTP through `handle`, the verifier discovers them like any other issuer,
// and its key survives a restart on the same data directory.
import { mkdtemp, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createDevIssuer, DEV_ISSUER_KEY_FILE, type DevIssuer } from "../src/auth/dev-issuer.js";
import { createTokenVerifier, type TokenVerifier } from "../src/auth/token-verifier.js";
import { isEngineError, type EngineError } from "../src/errors.js";

let nowMs = Date.parse("2030-05-06T07:08:09Z");
const clock = () => nowMs;
const dirs: string[] = [];
let server: Server;
let origin: string;
/** The instance the loopback server currently mounts; swapped to simulate an engine restart. */
let mounted: DevIssuer | null = null;

beforeAll(async () => {
  // Stands in for the engine's HTTP layer: a Request in, the issuer's Response (or 404) out.
  server = createServer((req, res) => {
    void (async () => {
      const response = await mounted?.handle(new Request(`${origin}${req.url}`, { method: req.method }));
      if (!response) return void res.writeHead(404).end();
      res.writeHead(response.status, Object.fromEntries(response.headers)).end(Buffer.from(await response.arrayBuffer()));
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(() => {
  nowMs = Date.parse("2030-05-06T07:08:09Z");
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "dev-issuer-"));
  dirs.push(dir);
  return dir;
}

function verifierTrusting(issuer: DevIssuer): TokenVerifier {
  const fetch = (url: string, init?: RequestInit) => globalThis.fetch(url, init);
  return createTokenVerifier({ config: { providers: [issuer.provider], problems: [] }, fetch, clock });
}

async function rejection(promise: Promise<unknown>): Promise<EngineError> {
  const outcome = await promise.then(() => new Error("expected a rejection"), (e: unknown) => e);
  if (!isEngineError(outcome)) throw outcome;
  return outcome;
}

describe("dev issuer", () => {
  it("mints tokens the verifier accepts, discovering the issuer over HTTP", async () => {
    mounted = await createDevIssuer({ dataDir: await dataDir(), issuerUrl: `${origin}/dev-auth/`, clock });
    expect(mounted.issuerUrl).toBe(`${origin}/dev-auth`);
    const token = await mounted.mint({ subject: "alice", name: "Alice", email: "alice@example.com", role: "tester" });
    const { identity, expiresAt } = await verifierTrusting(mounted).authenticate(token);
    expect(identity).toEqual({
      tokenIdentifier: `${origin}/dev-auth|alice`, issuer: `${origin}/dev-auth`, subject: "alice",
      name: "Alice", email: "alice@example.com", role: "tester",
    });
    expect(expiresAt).toBe(nowMs + 3600_000);
  });

  it("serves discovery and JWKS under its own path only", async () => {
    const issuer = await createDevIssuer({ dataDir: await dataDir(), issuerUrl: `${origin}/dev-auth`, clock });
    const discovery = await issuer.handle(new Request(`${origin}/dev-auth/.well-known/openid-configuration`));
    expect(discovery?.headers.get("content-type")).toBe("application/json");
    expect(await discovery?.json()).toMatchObject({ issuer: `${origin}/dev-auth`, jwks_uri: `${origin}/dev-auth/.well-known/jwks.json` });
    const jwks = (await (await issuer.handle(new Request(`${origin}/dev-auth/.well-known/jwks.json`)))?.json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: "RSA", kid: issuer.keyId, alg: "RS256", use: "sig" });
    expect(jwks.keys[0]).not.toHaveProperty("d"); // never the private exponent
    expect(await issuer.handle(new Request(`${origin}/.well-known/jwks.json`))).toBeNull();
    expect(await issuer.handle(new Request(`${origin}/api/query`))).toBeNull();
    expect((await issuer.handle(new Request(`${origin}/dev-auth/.well-known/jwks.json`, { method: "POST" })))?.status).toBe(405);
  });

  it("keeps its key across a restart on the same data directory, so earlier tokens stay valid", async () => {
    const dir = await dataDir();
    const first = await createDevIssuer({ dataDir: dir, issuerUrl: `${origin}/dev-auth`, clock });
    const tokenBeforeRestart = await first.mint({ subject: "bob" }, 600);
    expect((await stat(path.join(dir, DEV_ISSUER_KEY_FILE))).mode & 0o777).toBe(0o600);

    mounted = await createDevIssuer({ dataDir: dir, issuerUrl: `${origin}/dev-auth`, clock });
    expect(mounted.keyId).toBe(first.keyId);
    await expect(verifierTrusting(mounted).verify(tokenBeforeRestart)).resolves.toMatchObject({ subject: "bob" });

    const elsewhere = await createDevIssuer({ dataDir: await dataDir(), issuerUrl: `${origin}/dev-auth`, clock });
    expect(elsewhere.keyId).not.toBe(first.keyId);
  });

  it("agrees on one key when two instances start on an empty directory at once", async () => {
    const dir = await dataDir();
    const [a, b] = await Promise.all([0, 1].map(() => createDevIssuer({ dataDir: dir, issuerUrl: `${origin}/dev-auth`, clock })));
    expect(a!.keyId).toBe(b!.keyId);
  });

  it("refuses a damaged key file instead of replacing it", async () => {
    const dir = await dataDir();
    await writeFile(path.join(dir, DEV_ISSUER_KEY_FILE), "{ not json");
    const error = await rejection(createDevIssuer({ dataDir: dir, issuerUrl: `${origin}/dev-auth`, clock }));
    expect([error.code, error.recovery]).toEqual(["DevIssuerKeyUnavailable", "fatal"]);
    expect(error.message).toMatch(/dev-auth-key.json cannot be used: it is not JSON\. Delete it/);
    expect(await readFile(path.join(dir, DEV_ISSUER_KEY_FILE), "utf8")).toBe("{ not json");
  });

  it("says so when its data directory is unusable or its issuer URL is not http(s)", async () => {
    const file = path.join(await dataDir(), "a-file");
    await writeFile(file, "");
    const error = await rejection(createDevIssuer({ dataDir: file, issuerUrl: `${origin}/dev-auth`, clock }));
    expect(error.code).toBe("DevIssuerKeyUnavailable");
    expect(error.message).toMatch(/cannot read its signing key .*a-file\/dev-auth-key.json: ENOTDIR/);
    // A dangling link where the key belongs: nothing to read, and nothing it may overwrite.
    const dangling = await dataDir();
    await symlink(path.join(dangling, "gone.json"), path.join(dangling, DEV_ISSUER_KEY_FILE));
    const blocked = await rejection(createDevIssuer({ dataDir: dangling, issuerUrl: `${origin}/dev-auth`, clock }));
    expect(blocked.code).toBe("DevIssuerKeyUnavailable");
    expect(blocked.message).toMatch(/could not create its signing key .*dev-auth-key.json: EEXIST/);
    const badUrl = await rejection(createDevIssuer({ dataDir: await dataDir(), issuerUrl: "ftp://x/dev-auth", clock }));
    expect(badUrl.code).toBe("InvalidDevIssuerUrl");
  });

  it("expires its tokens after the requested lifetime", async () => {
    mounted = await createDevIssuer({ dataDir: await dataDir(), issuerUrl: `${origin}/dev-auth`, clock });
    const token = await mounted.mint({ subject: "carol" }, 60);
    const verifier = verifierTrusting(mounted);
    await expect(verifier.verify(token)).resolves.toMatchObject({ subject: "carol" });
    nowMs += 66_000;
    expect((await rejection(verifier.verify(token))).code).toBe("TokenExpired");
  });

  it("refuses to mint without a subject, with issuer-owned claims, or with a non-positive lifetime", async () => {
    const issuer = await createDevIssuer({ dataDir: await dataDir(), issuerUrl: `${origin}/dev-auth`, clock });
    const bad = [
      issuer.mint({ subject: "" }),
      issuer.mint({ subject: "dave", aud: "other", exp: 1 }),
      issuer.mint({ subject: "dave" }, 0),
    ];
    const errors = await Promise.all(bad.map(rejection));
    expect(errors.map((e) => e.code)).toEqual(["InvalidDevTokenRequest", "InvalidDevTokenRequest", "InvalidDevTokenRequest"]);
    expect(errors[1]!.message).toBe("The dev issuer sets aud, exp itself; leave them out of the claims.");
  });
});
