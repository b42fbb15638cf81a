import { ConvexHttpClient } from "convex/browser";
import { ConvexError } from "convex/values";
import { PNG } from "pngjs";
import { expect } from "vitest";
import { api, internal } from "../../../convex/_generated/api";
import type { Id } from "../../../convex/_generated/dataModel";
import { adminClient } from "../../../packages/engine/test/support/admin-client";
import { startTestEngine, type TestEngine } from "../../support/app-engine";
import { startTestIssuer, type TestIssuer } from "../../../packages/engine/test/support/test-issuer";

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
  /** Waits for the scheduled work that is due now (photo processing after `createPost`). */
  settle(): Promise<void>;
  /** The storage ids of a post's photo and its processed variants. */
  filesOfPost(postId: Id<"posts">): Promise<Id<"_storage">[]>;
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
  const documents = async (table: string) => {
    const response = await fetch(`${cloudUrl}/api/admin/documents?table=${table}&limit=1000`, {
      headers: { Authorization: `Convex ${adminKey}` },
    });
    return ((await response.json()) as { documents: Record<string, unknown>[] }).documents;
  };
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
    documents,
    settle: () => settle(running),
    async filesOfPost(postId) {
      const post = (await documents("posts")).find((row) => row._id === postId);
      if (post === undefined) throw new Error(`post ${postId} does not exist`);
      return [post.storageId, post.displayId, post.thumbnailId].filter((id) => id !== undefined) as Id<"_storage">[];
    },
    async close() {
      // Photo processing may still run; let it finish before the data folder goes.
      await settle(running);
      await running.close();
    },
  };
}

async function settle(running: TestEngine): Promise<void> {
  const response = await fetch(`${running.engine.cloudUrl}/api/admin/scheduler/drain`, {
    method: "POST",
    headers: { Authorization: `Convex ${running.engine.adminKey}`, "Content-Type": "application/json" },
    body: JSON.stringify({ advanceClock: false }),
  });
  if (!response.ok) throw new Error(`drain failed with ${response.status}: ${await response.text()}`);
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

/**
 * A valid PNG of deterministic noise, about `n` bytes (noise does not
 * compress, so its size follows its pixel count), different for every seed.
 */
export function pngBytes(n: number, seed: number): Uint8Array {
  const side = Math.max(1, Math.round(Math.sqrt(n / 3)));
  const png = new PNG({ width: side, height: side, colorType: 2 });
  let x = seed;
  for (let i = 0; i < png.data.length; i += 1) {
    x = (x * 1664525 + 1013904223) >>> 0;
    png.data[i] = (i & 3) === 3 ? 255 : x >>> 24;
  }
  return new Uint8Array(PNG.sync.write(png, { colorType: 2 }));
}
