import path from "node:path";
import { ConvexClient } from "convex/browser";
import type { EngineOptions } from "../../../packages/engine/src/engine";
import { startTestEngine, type TestEngine } from "../../../packages/engine/test/support/test-engine";
import { startTestIssuer, type TestIssuer } from "../../../packages/engine/test/support/test-issuer";
import { instagramSeeding, type InstagramSeeding } from "./instagram-seeding";

/** The Instagram app plus `testing:seedPost` (see README.md in `instagram/`). */
export const INSTAGRAM_FIXTURE = path.resolve(__dirname, "instagram");

/** An engine running the Instagram fixture, a test OIDC issuer standing in for Clerk, and official clients. */
export interface InstagramSync extends InstagramSeeding {
  readonly running: TestEngine;
  readonly issuer: TestIssuer;
  readonly cloudUrl: string;
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
  const seeding = await instagramSeeding(engine, issuer);
  const clients: ConvexClient[] = [];

  return {
    running,
    issuer,
    cloudUrl: engine.cloudUrl,
    ...seeding,
    async client(clerkId) {
      const client = new ConvexClient(engine.cloudUrl, { logger: false });
      clients.push(client);
      if (clerkId !== null) {
        const signedIn = new Promise<void>((resolve, reject) =>
          client.setAuth(
            () => seeding.token(clerkId),
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

