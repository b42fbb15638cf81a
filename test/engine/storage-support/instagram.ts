import { ConvexHttpClient } from "convex/browser";
import { ConvexError } from "convex/values";
import { expect } from "vitest";
import { api, internal } from "../../../convex/_generated/api";
import type { Id } from "../../../convex/_generated/dataModel";
import { adminClient } from "../../support/admin-client";
import { startTestEngine, type TestEngine } from "../../support/test-engine";
import { startTestIssuer, type TestIssuer } from "../../support/test-issuer";

/**
 * The Instagram app on the engine as its front end reaches it: the official
 * `ConvexHttpClient` with real JWTs from a loopback OIDC issuer standing in
 * for Clerk, users created by the internal mutation the Clerk webhook uses
 * (called with the admin key), uploads POSTed to `generateUploadUrl`'s URL.
 */
export interface InstagramDeployment {
  running: TestEngine;
  admin: ReturnType<typeof adminClient>;
  /** Signs up a user and returns a client signed in as them. */
  signUp(name: string): Promise<{ id: Id<"users">; client: ConvexHttpClient }>;
  /** Uploads `bytes` as the client's user; returns the storage id. */
  upload(client: ConvexHttpClient, bytes: Uint8Array, contentType: string): Promise<Id<"_storage">>;
  /** Every document of a table, through the admin API. */
  documents(table: string): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

let issuer: Promise<TestIssuer> | null = null;

/** A fresh deployment of the app (the test issuer is shared per process). */
export async function startInstagram(): Promise<InstagramDeployment> {
  issuer ??= startTestIssuer();
  const testIssuer = await issuer;
  const running = await startTestEngine({ env: { CLERK_JWT_ISSUER_DOMAIN: testIssuer.issuer } });
  const { cloudUrl, adminKey } = running.engine;
  const admin = adminClient(cloudUrl, adminKey);
  return {
    running,
    admin,
    async signUp(name) {
      const clerkId = `user_${name}_${Math.random().toString(36).slice(2, 8)}`;
      const id = await admin.mutation(internal.users.createUser, {
        clerkId,
        email: `${name}@example.com`,
        username: name,
        fullname: name,
        image: "https://img.example.com/a.png",
      });
      const client = new ConvexHttpClient(cloudUrl, { logger: false });
      client.setAuth(await testIssuer.mint({ sub: clerkId, email: `${name}@example.com` }));
      return { id, client };
    },
    async upload(client, bytes, contentType) {
      const url = await client.mutation(api.posts.generateUploadUrl, {});
      const response = await fetch(url, { method: "POST", headers: { "Content-Type": contentType }, body: bytes as unknown as BodyInit });
      expect(response.status).toBe(200);
      return ((await response.json()) as { storageId: Id<"_storage"> }).storageId;
    },
    async documents(table) {
      const response = await fetch(`${cloudUrl}/api/admin/documents?table=${table}&limit=1000`, {
        headers: { Authorization: `Convex ${adminKey}` },
      });
      return ((await response.json()) as { documents: Record<string, unknown>[] }).documents;
    },
    close: () => running.close(),
  };
}

/** Expects `promise` to reject with the app's ConvexError `code`. */
export async function expectAppError(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConvexError);
  expect((error as ConvexError<{ code: string }>).data.code).toBe(code);
}

/** A PNG signature followed by deterministic bytes: `n` bytes in all. */
export function pngBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  out.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let x = seed;
  for (let i = 8; i < n; i += 1) {
    x = (x * 1664525 + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}
