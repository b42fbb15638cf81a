import { availableParallelism } from "node:os";
import path from "node:path";
import type { Engine } from "../../packages/engine/src/engine";
import type { CommitSummary } from "../../packages/engine/src/runtime/runtime-database";
import type { SyncServer, SyncServerOptions } from "../../packages/engine/src/sync/sync-server";
import { instagramSeeding, type InstagramSeeding } from "../../test/on-engine/sync-support/instagram-seeding";
import { startTestEngine } from "../../packages/engine/test/support/test-engine";
import { startTestIssuer, type TestIssuer } from "../../packages/engine/test/support/test-issuer";
import { epochNow, root } from "./client-process";

/**
 * The engine the sync benchmarks measure: in the benchmark's own process, on
 * a fresh data folder, running the Instagram app plus `testing:seedPost`
 * (test/engine/sync-support/instagram), with a test OIDC issuer standing in
 * for Clerk.
 */
export interface BenchEngine {
  engine: Engine;
  app: InstagramSeeding;
  issuer: TestIssuer;
  close(): Promise<void>;
}

/** Starts the engine and the issuer; `sync` tunes the sync server (e.g. a `beforeSend` hook). */
export async function startInstagramBench(sync?: SyncServerOptions): Promise<BenchEngine> {
  const issuer = await startTestIssuer();
  const running = await startTestEngine({
    appDir: path.join(root, "test/on-engine/sync-support/instagram"),
    // The app's per-user rate limits would refuse the benchmarks' steady writers (a comment every
    // 250 ms passes the comment burst within a minute); the benchmarks measure the engine.
    env: { CLERK_JWT_ISSUER_DOMAIN: issuer.issuer, RATE_LIMIT_SCALE: "1000000" },
    // As `convex-local start` does: one query worker per core (test engines start with one);
    // BENCH_QUERY_WORKERS sets another count (e.g. to compare 1 and 2 on this machine).
    queryWorkers: Number(process.env.BENCH_QUERY_WORKERS ?? availableParallelism()),
    sync,
  });
  const app = await instagramSeeding(running.engine, issuer);
  return {
    engine: running.engine,
    app,
    issuer,
    async close() {
      await running.close();
      await issuer.close();
    },
  };
}

/** Calls `listener` with each commit and the instant it was announced (epoch ms), before the sync layer hears of it. */
export function onEveryCommit(engine: Engine, listener: (commit: CommitSummary, at: number) => void): void {
  const sync = engine.sync as { onCommit: SyncServer["onCommit"] };
  const announce = sync.onCommit;
  sync.onCommit = (commit) => {
    listener(commit, epochNow());
    announce(commit);
  };
}
