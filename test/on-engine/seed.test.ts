import { ConvexHttpClient } from "convex/browser";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, test } from "vitest";
import { api } from "../../convex/_generated/api";
import { spawnEngine, type EngineProcess } from "../../packages/engine/test/support/engine-process";
import { APP_DIR } from "../support/app-engine";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const run = promisify(execFile);

let dataDir: string;
let engine: EngineProcess;
beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), "seed-"));
  engine = await spawnEngine({ appDir: APP_DIR, dataDir, dev: true });
}, 60_000);
afterAll(async () => {
  await engine?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** `npm run seed` against a running engine: users via signed webhooks, photos via upload URLs, activity via the app. */
test("npm run seed fills a running engine with users, photos, follows, likes, comments and notifications", async () => {
  const { stdout } = await run(process.execPath, [path.join(ROOT, "scripts/run-ts.mjs"), "scripts/seed.ts", "--data", dataDir, "--users", "5", "--posts", "8"], {
    cwd: ROOT,
  });
  expect(stdout).toMatch(/Seeded 5 users and 8 photos/);

  // It names a user to sign in as, and the command it prints gives a token the app accepts for that user.
  const [, username, subject] = /^Sign in as @(\S+), subject (\S+):$/m.exec(stdout) ?? [];
  expect(subject).toMatch(/^user_demo_/);
  expect(stdout).toContain(`npm run engine -- token --subject ${subject}`);
  const minted = await run(process.execPath, [path.join(ROOT, "packages/engine/bin/convex-local.mjs"), "token", "--subject", subject!, "--data", dataDir]);
  const signedIn = new ConvexHttpClient(engine.cloudUrl, { logger: false });
  signedIn.setAuth(minted.stdout.trim());
  expect(await signedIn.query(api.users.getCurrentUser, {})).toMatchObject({ username, clerkId: subject });
  const documents = async (table: string) => {
    const response = await fetch(`${engine.cloudUrl}/api/admin/documents?table=${table}&limit=1000`, {
      headers: { Authorization: `Convex ${engine.adminKey}` },
    });
    return ((await response.json()) as { documents: Record<string, unknown>[] }).documents;
  };
  const [users, posts, files, likes, follows, notifications, events] = await Promise.all(
    ["users", "posts", "_storage", "likes", "follows", "notifications", "webhookEvents"].map(documents),
  );
  expect(users).toHaveLength(5);
  expect(events).toHaveLength(5); // every user came through the webhook
  expect(posts).toHaveLength(8);
  // Each photo: its metadata-free original, a display variant and a thumbnail.
  expect(files).toHaveLength(3 * 8);
  expect(likes.length + follows.length).toBeGreaterThan(0);
  expect(notifications.length).toBeGreaterThan(0);
  // Counters equal the rows they count.
  for (const post of posts) expect(post.likes).toBe(likes.filter((l) => l.postId === post._id).length);
  // Every post's photo is a real PNG served at its imageUrl, and processed.
  const feed = await new ConvexHttpClient(engine.cloudUrl, { logger: false }).query(api.posts.getFeedPosts, {});
  expect(feed).toHaveLength(8);
  for (const post of feed) expect(post.thumbnailUrl).not.toBeNull();
  const photo = await fetch(feed[0]!.imageUrl);
  expect(photo.headers.get("content-type")).toBe("image/png");
  expect(Buffer.from(await photo.arrayBuffer()).subarray(1, 4).toString()).toBe("PNG");
}, 60_000);
