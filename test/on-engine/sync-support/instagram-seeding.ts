import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import type { Engine } from "../../../packages/engine/src/engine";
import type { TestIssuer } from "../../../packages/engine/test/support/test-issuer";

const createUserRef = makeFunctionReference<"mutation", { clerkId: string; username?: string; email?: string }, string>("users:createUser");
const seedPostRef = makeFunctionReference<"action", { userId: string; caption?: string }, string>("testing:seedPost");

/** Accounts, posts and tokens for an engine running the Instagram fixture (shared by tests and benchmarks). */
export interface InstagramSeeding {
  /** Creates an account the way the Clerk webhook does; returns its user id. */
  createUser(clerkId: string): Promise<string>;
  /** Inserts a post by `userId` with a stored file of its own (no upload flow, no processing); returns its id. */
  seedPost(userId: string, caption?: string): Promise<string>;
  /** A token for `clerkId`, as Clerk would mint it. */
  token(clerkId: string): Promise<string>;
}

/** Seeding helpers over the admin key of `engine`; `issuer` must be the app's Clerk domain. */
export async function instagramSeeding(engine: Engine, issuer: TestIssuer): Promise<InstagramSeeding> {
  const admin = new ConvexHttpClient(engine.cloudUrl, { logger: false });
  (admin as unknown as { setAdminAuth(key: string): void }).setAdminAuth(engine.adminKey);
  return {
    createUser: (clerkId) => admin.mutation(createUserRef, { clerkId, username: clerkId, email: `${clerkId}@example.com` }),
    seedPost: (userId, caption) => admin.action(seedPostRef, { userId, caption }),
    token: (clerkId) => issuer.mint({ sub: clerkId, email: `${clerkId}@example.com`, name: clerkId }),
  };
}
