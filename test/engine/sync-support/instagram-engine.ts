import { randomBytes } from "node:crypto";
import path from "node:path";
import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import type { EngineOptions } from "../../../engine/engine";
import { encodeDocumentId, newInternalId } from "../../../engine/values/document-id";
import { startTestEngine, type TestEngine } from "../../support/test-engine";
import { startTestIssuer, type TestIssuer } from "../../support/test-issuer";

/** The Instagram app plus `testing:seedPost` (see README.md in `instagram/`). */
export const INSTAGRAM_FIXTURE = path.resolve(__dirname, "instagram");

const createUserRef = makeFunctionReference<"mutation", { clerkId: string; username?: string; email?: string }, string>("users:createUser");
const seedPostRef = makeFunctionReference<"mutation", { userId: string; storageId: string; caption?: string }, string>("testing:seedPost");

/** An engine running the Instagram fixture, a test OIDC issuer standing in for Clerk, and official clients. */
export interface InstagramSync {
  readonly running: TestEngine;
  readonly issuer: TestIssuer;
  readonly cloudUrl: string;
  /** Creates an account the way the Clerk webhook does; returns its user id. */
  createUser(clerkId: string): Promise<string>;
  /** Inserts a post by `userId` (no upload); returns its id. */
  seedPost(userId: string, caption?: string): Promise<string>;
  /** A token for `clerkId`, as Clerk would mint it. */
  token(clerkId: string): Promise<string>;
  /** An official WebSocket client, signed in as `clerkId` (or anonymous with null); closed by `close()`. */
  client(clerkId: string | null): Promise<ConvexClient>;
  /** Closes the clients, the engine and the issuer. */
  close(): Promise<void>;
}

/** Starts the fixture engine on 127.0.0.1 with the issuer configured as the app's Clerk domain. */
export async function startInstagramSync(options: Partial<EngineOptions> & { issuer?: TestIssuer } = {}): Promise<InstagramSync> {
  const issuer = options.issuer ?? (await startTestIssuer());
  const running = await startTestEngine({
    ...options,
    appDir: INSTAGRAM_FIXTURE,
    env: { CLERK_JWT_ISSUER_DOMAIN: issuer.issuer, ...options.env },
  });
  const { engine } = running;
  const admin = new ConvexHttpClient(engine.cloudUrl, { logger: false });
  (admin as unknown as { setAdminAuth(key: string): void }).setAdminAuth(engine.adminKey);
  const storageTable = await storageTableNumber(running);
  const clients: ConvexClient[] = [];
  const token = (clerkId: string) => issuer.mint({ sub: clerkId, email: `${clerkId}@example.com`, name: clerkId });

  return {
    running,
    issuer,
    cloudUrl: engine.cloudUrl,
    createUser: (clerkId) => admin.mutation(createUserRef, { clerkId, username: clerkId, email: `${clerkId}@example.com` }),
    seedPost: (userId, caption) =>
      admin.mutation(seedPostRef, {
        userId,
        storageId: encodeDocumentId(storageTable, newInternalId((n) => new Uint8Array(randomBytes(n)), Date.now())),
        caption,
      }),
    token,
    async client(clerkId) {
      const client = new ConvexClient(engine.cloudUrl, { logger: false });
      clients.push(client);
      if (clerkId !== null) {
        const signedIn = new Promise<void>((resolve, reject) =>
          client.setAuth(
            () => token(clerkId),
            (isAuthenticated) => (isAuthenticated ? resolve() : reject(new Error(`${clerkId} was not signed in`))),
          ),
        );
        await signedIn;
      }
      return client;
    },
    async close() {
      await Promise.all(clients.map((c) => c.close()));
      await running.close();
      if (options.issuer === undefined) await issuer.close();
    },
  };
}

/**
 * The `_storage` table's number, for ids that `v.id("_storage")` accepts. The
 * table exists once something was uploaded; before that it is created here by
 * an insert that is deleted again in the same transaction, so no file row that
 * no file backs is ever visible.
 */
async function storageTableNumber(running: TestEngine): Promise<number> {
  const { store, app } = running.engine;
  const existing = store.tableNumber("_storage");
  if (existing !== null) return existing;
  await app.runtime.transact(() => {
    store.delete(store.insert("_storage", { sha256: "", size: 0 }));
  });
  const created = store.tableNumber("_storage");
  if (created === null) throw new Error("could not create the _storage table");
  return created;
}
