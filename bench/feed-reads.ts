/**
 * Counter (not a benchmark: `npm run bench` skips it) of the reads one run of
 * `posts.getFeedPosts` (50 posts) makes for a signed-in viewer, on the data of
 * `feed-and-likes.bench.ts` (1,000 users, 10,000 posts, 100,000 likes, 10,000 bookmarks):
 * each run's read set through `runtime.runTracked` (index intervals by index, documents
 * read by id), averaged over VIEWERS different users. Deterministic: it shows what the
 * app's code asks of the engine, whatever the machine's load.
 *
 *   node scripts/run-ts.mjs bench/feed-reads.ts
 */
import { randomTools, seededRandom } from "../packages/engine/test/support/seeded-random";
import { seed, USERS } from "./fixtures/feed-data";
import { startAppEngine } from "./support/app-engine";

const VIEWERS = 50;
const running = await startAppEngine("feed-reads-", { queryCache: false, queryWorkers: 1 });
const { engine, issuer } = running;
const rng = randomTools(seededRandom(42));
const seeded = await seed(engine, rng);
const byIndex = new Map<string, number>();
let ids = 0;
let posts = 0;
for (let i = 0; i < VIEWERS; i++) {
  const clerkId = seeded.clerkIds[rng.int(0, USERS - 1)]!;
  const { outcome, readSet } = await engine.app.runtime.runTracked({
    path: "posts:getFeedPosts",
    args: {},
    identity: { subject: clerkId, issuer: issuer.issuer, tokenIdentifier: `${issuer.issuer}|${clerkId}` },
    allowInternal: false,
    origin: "client",
  });
  if (outcome.status !== "success") throw new Error(outcome.errorMessage);
  posts += (outcome.value as unknown[]).length;
  for (const interval of readSet.intervals) byIndex.set(interval.index, (byIndex.get(interval.index) ?? 0) + 1);
  ids += readSet.ids.length;
}
console.log(`posts.getFeedPosts, ${VIEWERS} signed-in viewers, ${(posts / VIEWERS).toFixed(1)} posts per page; reads per run:`);
let intervals = 0;
for (const [index, count] of [...byIndex].sort()) {
  intervals += count;
  console.log(`  ${index.padEnd(32)} ${(count / VIEWERS).toFixed(1)} index ranges`);
}
console.log(`  ${"documents by id".padEnd(32)} ${(ids / VIEWERS).toFixed(1)}`);
console.log(`  ${"total".padEnd(32)} ${((intervals + ids) / VIEWERS).toFixed(1)}`);
await running.close();
