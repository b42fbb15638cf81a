import { randomBytes } from "node:crypto";
import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import type { Engine } from "../../../engine/engine";
import { encodeDocumentId, newInternalId } from "../../../engine/values/document-id";
import type { TestIssuer } from "../../support/test-issuer";

const createUserRef = makeFunctionReference<"mutation", { clerkId: string; username?: string; email?: string }, string>("users:createUser");
const seedPostRef = makeFunctionReference<"mutation", { userId: string; storageId: string; caption?: string }, string>("testing:seedPost");

/** Accounts, posts and tokens for an engine running the Instagram fixture (shared by tests and benchmarks). */
export interface InstagramSeeding {
  /** Creates an account the way the Clerk webhook does; returns its user id. */
  createUser(clerkId: string): Promise<string>;
  /** Inserts a post by `userId` (no upload); returns its id. */
  seedPost(userId: string, caption?: string): Promise<string>;
  /** A token for `clerkId`, as Clerk would mint it. */
  token(clerkId: string): Promise<string>;
}

/** Seeding helpers over the admin key of `engine`; `issuer` must be the app's Clerk domain. */
export async function instagramSeeding(engine: Engine, issuer: TestIssuer): Promise<InstagramSeeding> {
  const admin = new ConvexHttpClient(engine.cloudUrl, { logger: false });
  (admin as unknown as { setAdminAuth(key: string): void }).setAdminAuth(engine.adminKey);
  const storageTable = await storageTableNumber(engine);
  return {
    createUser: (clerkId) => admin.mutation(createUserRef, { clerkId, username: clerkId, email: `${clerkId}@example.com` }),
    seedPost: (userId, caption) =>
      admin.mutation(seedPostRef, {
        userId,
        storageId: encodeDocumentId(storageTable, newInternalId((n) => new Uint8Array(randomBytes(n)), Date.now())),
        caption,
      }),
    token: (clerkId) => issuer.mint({ sub: clerkId, email: `${clerkId}@example.com`, name: clerkId }),
  };
}

/**
 * The `_storage` table's number, for ids that `v.id("_storage")` accepts. The
 * table exists once something was uploaded; before that it is created here by
 * an insert that is deleted again in the same transaction, so no file row that
 * no file backs is ever visible.
 */
async function storageTableNumber(engine: Engine): Promise<number> {
  const { store, app } = engine;
  const existing = store.tableNumber("_storage");
  if (existing !== null) return existing;
  await app.runtime.transact(() => {
    store.delete(store.insert("_storage", { sha256: "", size: 0 }));
  });
  const created = store.tableNumber("_storage");
  if (created === null) throw new Error("could not create the _storage table");
  return created;
}
