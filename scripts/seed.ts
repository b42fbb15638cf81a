/**
 * `npm run seed [-- --users N --posts N --data DIR]`: fills a running engine
 * with demo data the way real traffic would create it — users through
 * svix-signed Clerk webhooks, photos through upload URLs, then follows,
 * likes, comments and bookmarks through the app's own mutations (which write
 * the notifications). Actions run as each user via the admin key's
 * "acting as" identity, so it works with Clerk configured or not.
 */
import { ConvexHttpClient } from "convex/browser";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { Webhook } from "svix";
import { api } from "../convex/_generated/api";
import type { Id } from "../convex/_generated/dataModel";
import { pick as pickFrom, seededRandom } from "../packages/engine/test/support/seeded-random";
import { generatePhoto } from "./seed/generated-photo";
import { CAPTIONS, COMMENTS, FIRST_NAMES, LAST_NAMES } from "./seed/demo-text";

const { values } = parseArgs({
  options: {
    data: { type: "string", default: "data" },
    users: { type: "string", default: "24" },
    posts: { type: "string", default: "72" },
    seed: { type: "string", default: "7" },
  },
});
const USERS = Number(values.users);
const POSTS = Number(values.posts);
const SEED = Number(values.seed) >>> 0;
const random = seededRandom(SEED);
const pick = <T>(items: readonly T[]): T => pickFrom(random, items);

async function main(): Promise<void> {
  const engine = runningEngine(path.resolve(values.data!));
  const admin = (route: string, init?: RequestInit) =>
    fetch(`${engine.cloudUrl}/api/admin/${route}`, {
      ...init,
      headers: { Authorization: `Convex ${engine.adminKey}`, "Content-Type": "application/json" },
    }).then(async (r) => {
      if (!r.ok) throw new Error(`admin ${route}: ${r.status} ${await r.text()}`);
      return r.json();
    });

  // The webhook needs a signing secret; a demo deployment gets one if it has none.
  const env = ((await admin("env")) as { env: Record<string, string> }).env;
  let secret = env.CLERK_WEBHOOK_SECRET;
  if (!secret) {
    secret = `whsec_${randomBytes(24).toString("base64")}`;
    await admin("env", { method: "POST", body: JSON.stringify({ name: "CLERK_WEBHOOK_SECRET", value: secret }) });
    console.log("Set CLERK_WEBHOOK_SECRET on the deployment (it had none).");
  }
  const webhook = new Webhook(secret);

  const total = USERS + POSTS + USERS * 3;
  const progress = createProgress(total);
  const runTag = randomBytes(3).toString("hex");

  // 1. Users, as Clerk would create them.
  const users: { clerkId: string; id: Id<"users">; username: string; client: ConvexHttpClient }[] = [];
  for (let i = 0; i < USERS; i++) {
    const first = pick(FIRST_NAMES);
    const last = pick(LAST_NAMES);
    const clerkId = `user_demo_${runTag}_${i}`;
    const body = JSON.stringify({
      type: "user.created",
      object: "event",
      data: {
        id: clerkId,
        first_name: first,
        last_name: last,
        username: `${first}.${last}${i}`.toLowerCase(),
        // A small generated picture inline: demo data must not depend on a network.
        image_url: `data:image/png;base64,${generatePhoto(SEED * 7919 + 1000 + i, 64).toString("base64")}`,
        primary_email_address_id: "idn_1",
        email_addresses: [{ id: "idn_1", email_address: `${first}.${last}${i}@example.com`.toLowerCase() }],
      },
    });
    const msgId = `msg_seed_${runTag}_${i}`;
    const now = new Date();
    const response = await fetch(`${engine.siteUrl}/clerk-webhook`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "svix-id": msgId,
        "svix-timestamp": String(Math.floor(now.getTime() / 1000)),
        "svix-signature": webhook.sign(msgId, now, body),
      },
      body,
    });
    if (!response.ok) throw new Error(`user.created was refused: ${response.status} ${await response.text()}`);
    const client = new ConvexHttpClient(engine.cloudUrl, { logger: false });
    (client as unknown as { setAdminAuth(k: string, identity: object): void }).setAdminAuth(engine.adminKey, {
      subject: clerkId,
      issuer: "https://seed.local",
    });
    const me = await client.query(api.users.getCurrentUser, {});
    if (me === null) throw new Error(`the webhook did not create ${clerkId}`);
    users.push({ clerkId, id: me._id, username: me.username, client });
    progress.tick(`user @${me.username}`);
  }

  // 2. Photos through upload URLs, posted with captions.
  const posts: Id<"posts">[] = [];
  for (let i = 0; i < POSTS; i++) {
    const author = pick(users);
    const url = await author.client.mutation(api.posts.generateUploadUrl, {});
    const upload = await fetch(url, { method: "POST", headers: { "Content-Type": "image/png" }, body: generatePhoto(SEED * 7919 + i) as unknown as BodyInit });
    if (!upload.ok) throw new Error(`upload failed: ${upload.status} ${await upload.text()}`);
    const { storageId } = (await upload.json()) as { storageId: Id<"_storage"> };
    posts.push(await author.client.mutation(api.posts.createPost, { storageId, caption: pick(CAPTIONS) }));
    progress.tick(`post ${i + 1}/${POSTS}`);
  }
  // Others see a post once its photo is processed (a scheduled action): wait for those that are due.
  const drained = await fetch(`${engine.cloudUrl}/api/admin/scheduler/drain`, {
    method: "POST",
    headers: { Authorization: `Convex ${engine.adminKey}`, "Content-Type": "application/json" },
    body: JSON.stringify({ advanceClock: false }),
  });
  if (!drained.ok) throw new Error(`waiting for photo processing failed: ${drained.status} ${await drained.text()}`);

  // 3. Follows, likes, comments and bookmarks (the app writes the notifications).
  for (const user of users) {
    for (const other of users) {
      if (other !== user && random() < 0.3) await user.client.mutation(api.users.toggleFollow, { followingId: other.id });
    }
    progress.tick("follows");
    for (const post of posts) {
      if (random() < 0.25) await user.client.mutation(api.posts.toggleLike, { postId: post });
      if (random() < 0.05) await user.client.mutation(api.bookmarks.toggleBookmark, { postId: post });
    }
    progress.tick("likes");
    for (const post of posts) {
      if (random() < 0.06) await user.client.mutation(api.comments.addComment, { postId: post, content: pick(COMMENTS) });
    }
    progress.tick("comments");
  }
  progress.done();
  console.log(`Seeded ${USERS} users and ${POSTS} photos. Browse them: ${engine.cloudUrl}/dashboard (admin key: ${engine.adminKey})`);
  // The most active demo user is the most interesting to sign in as.
  const me = users[0]!;
  console.log(
    [
      `Sign in as @${me.username}, subject ${me.clerkId}:`,
      `  npm run engine -- token --subject ${me.clerkId}     # a one-hour token for client.setAuth / Authorization: Bearer`,
      `  or in React: the useDevAuth hook of the README ("Sign in from React") with that subject.`,
    ].join("\n"),
  );
}

function runningEngine(dataDir: string): { cloudUrl: string; siteUrl: string; adminKey: string } {
  const file = path.join(dataDir, "engine.json");
  if (!existsSync(file)) {
    throw new Error(`No engine is running on ${dataDir}. Start one first (npm start), then run npm run seed.`);
  }
  return JSON.parse(readFileSync(file, "utf8"));
}

/** A progress bar on a terminal; a line every 10% otherwise (CI logs). */
function createProgress(total: number) {
  let done = 0;
  let lastDecile = -1;
  const tty = process.stdout.isTTY === true;
  const draw = (label: string) => {
    const width = 30;
    const filled = Math.round((done / total) * width);
    const pct = Math.floor((done / total) * 100);
    if (tty) {
      process.stdout.write(`\r[${"█".repeat(filled)}${"░".repeat(width - filled)}] ${String(pct).padStart(3)}% ${label.padEnd(24)}`);
    } else if (Math.floor(pct / 10) !== lastDecile) {
      lastDecile = Math.floor(pct / 10);
      process.stdout.write(`seeding… ${pct}% (${label})\n`);
    }
  };
  return {
    tick(label: string) {
      done += 1;
      draw(label);
    },
    done() {
      done = total;
      draw("done");
      if (tty) process.stdout.write("\n");
    },
  };
}

main().catch((e) => {
  console.error(`\nseed failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
