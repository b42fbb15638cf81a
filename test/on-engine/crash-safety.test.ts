import { ConvexHttpClient } from "convex/browser";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { spawnEngine, type EngineProcess } from "../../packages/engine/test/support/engine-process";
import { APP_DIR } from "../support/app-engine";
import { adminClient } from "../../packages/engine/test/support/admin-client";
import { startTestIssuer, type TestIssuer } from "../../packages/engine/test/support/test-issuer";

/**
 * Crash safety: the engine process is killed with SIGKILL in the middle of a
 * burst of mutations and restarted on the same data folder. Every mutation
 * the client saw acknowledged must be there, none may be half-applied, and
 * the app's counters must equal the rows they count. The engine runs as
 * `convex-local start` does: mutations on the writer thread, whose batches
 * follow each other while the main thread syncs the WAL of the previous one
 * (`writer/wal-sync.ts`); the kill may land between a commit and its sync.
 */
describe("crash safety", () => {
  let issuer: TestIssuer;
  let dataDir: string;
  let engine: EngineProcess | null = null;

  beforeAll(async () => {
    issuer = await startTestIssuer();
    dataDir = mkdtempSync(path.join(tmpdir(), "engine-crash-"));
  });
  afterAll(async () => {
    await engine?.stop("SIGKILL");
    await issuer.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const start = () =>
    spawnEngine({ appDir: APP_DIR, dataDir, env: { CLERK_JWT_ISSUER_DOMAIN: issuer.issuer } });

  test("every acknowledged mutation survives SIGKILL, none is partial, counters equal rows", async () => {
    engine = await start();
    const admin = adminClient(engine.cloudUrl, engine.adminKey);

    // Twelve users; each will follow every other one, one toggle per pair.
    const clerkIds = Array.from({ length: 12 }, (_, i) => `user_crash${i}`);
    const ids: Id<"users">[] = [];
    for (const clerkId of clerkIds) {
      ids.push(await admin.mutation(internal.users.createUser, { clerkId, username: clerkId.replace("user_", "") }));
    }
    const clients = await Promise.all(
      clerkIds.map(async (clerkId) => {
        const client = new ConvexHttpClient(engine!.cloudUrl, { logger: false });
        client.setAuth(await issuer.mint({ sub: clerkId }));
        return client;
      }),
    );

    // The burst: every user follows every other user, all users at once.
    const acknowledged: [number, number][] = [];
    let killed = false;
    const bursts = clients.map(async (client, a) => {
      for (let b = 0; b < clients.length; b++) {
        if (a === b) continue;
        try {
          await client.mutation(api.users.toggleFollow, { followingId: ids[b]! });
          if (!killed) acknowledged.push([a, b]);
        } catch {
          return; // the engine is gone; later toggles of this user never happened
        }
      }
    });
    // Kill once a good part of the burst has been acknowledged, mid-flight.
    while (acknowledged.length < 40) await new Promise((r) => setImmediate(r));
    killed = true;
    const acknowledgedAtKill = [...acknowledged];
    expect(await engine.stop("SIGKILL")).toBe("SIGKILL");
    await Promise.all(bursts);

    // Restart on the same data folder.
    engine = await start();
    const after = adminClient(engine.cloudUrl, engine.adminKey);
    const follows = await documents(engine, "follows");
    const users = await documents(engine, "users");
    const edges = new Set(follows.map((f) => `${f.followerId}->${f.followingId}`));

    // Every acknowledged follow is present.
    for (const [a, b] of acknowledgedAtKill) expect(edges.has(`${ids[a]}->${ids[b]}`)).toBe(true);
    // No duplicate edge, and counters equal rows (a partial toggle would break one of these).
    expect(edges.size).toBe(follows.length);
    for (const user of users) {
      const following = follows.filter((f) => f.followerId === user._id).length;
      const followers = follows.filter((f) => f.followingId === user._id).length;
      expect({ id: user._id, following: user.following, followers: user.followers }).toEqual({
        id: user._id,
        following,
        followers,
      });
    }
    // The restarted engine keeps working and keeps its commit clock moving forward.
    await after.mutation(internal.users.createUser, { clerkId: "user_after_crash" });
    expect((await documents(engine, "users")).length).toBe(users.length + 1);
  });
});

async function documents(engine: EngineProcess, table: string): Promise<Record<string, unknown>[]> {
  const response = await fetch(`${engine.cloudUrl}/api/admin/documents?table=${table}&limit=1000`, {
    headers: { Authorization: `Convex ${engine.adminKey}` },
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { documents: Record<string, unknown>[] }).documents;
}
