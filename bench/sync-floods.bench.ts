/**
 * One client's floods against everyone else (issue #10, "Done when"): while
 * a single anonymous client runs each flood, a bystander in another process
 * makes one-off HTTP queries every 20 ms (fresh arguments, so the query
 * cache never answers) and watches a post whose comment count grows every
 * 250 ms through an official `ConvexClient`. Floods, each for
 * `SYNC_FLOOD_SECONDS` (20): 4,096 subscriptions on one socket each reading
 * the whole feed (every comment re-runs them all); 200 sockets that
 * subscribe and stop reading; 16 MB frames back to back on one socket plus
 * frames just over the frame limit on fresh ones; arguments nested 20,000
 * deep; 2,000 mutations at once. The baseline is the same bystander with no
 * flood, in the same run.
 *
 * Printed per flood: the bystander's query latency p50/p99 and its update
 * delay (comment commit → its client shows it) p50/p99, the p99 ratio to the
 * quiet baseline, the engine process's peak and settled RSS, and its CPU.
 * Targets: query p99 < 100 ms, RSS < 1 GiB. The engine (this process) holds
 * 20 posts of ~500 characters. Run: `npm run bench sync-floods`.
 */
import { ConvexHttpClient } from "convex/browser";
import { api } from "../convex/_generated/api";
import type { Id } from "../convex/_generated/dataModel";
import type { Flood } from "./sync-flood-clients";
import { buildClientProcess, epochNow, startClientProcess } from "./support/client-process";
import { onEveryCommit, startInstagramBench } from "./support/instagram-engine";

const PHASE_SECONDS = Number(process.env.SYNC_FLOOD_SECONDS ?? 20);
const FLOODS: Flood[] = ["subscriptions", "paused sockets", "big frames", "deep nesting", "mutation flood"];
const COMMENT_EVERY_MS = 250;

interface Latency {
  samples: number;
  p50: number;
  p99: number;
  max: number;
}

interface Phase {
  flood: string;
  queries: Latency;
  updates: Latency;
  rssPeak: number;
  rssAfter: number;
  cpuPercent: number;
  cuts: string;
}

async function main(): Promise<void> {
  const childFile = await buildClientProcess("sync-flood-clients");
  const bench = await startInstagramBench();
  const { engine, app } = bench;
  const author = await app.createUser("author");
  for (let i = 0; i < 20; i++) await app.seedPost(author, `post ${i} ${"caption ".repeat(60)}`);
  const watched = (await app.seedPost(author, "watched")) as Id<"posts">;
  await app.createUser("commenter");
  const commenter = new ConvexHttpClient(engine.cloudUrl, { logger: false });
  commenter.setAuth(await app.token("commenter"));

  // When the watched post's comment count first reached each value.
  const commits = new Map<number, number>();
  onEveryCommit(engine, (commit, at) => {
    for (const write of commit.writes) {
      if (write.id !== watched) continue;
      // The writer's commits carry no texts: read the post as the commit is announced (one
      // commenter, one comment at a time, so the count read is this commit's).
      const text = write.newText ?? engine.store.get(write.id);
      if (text === null) continue;
      const comments = (JSON.parse(text) as { comments: number }).comments;
      if (!commits.has(comments)) commits.set(comments, at);
    }
  });

  const bystander = await startClientProcess(childFile);
  await bystander.request({ kind: "bystander", cloudUrl: engine.cloudUrl, postId: watched }, "ready");
  let commenting = true;
  const comments = (async () => {
    for (let n = 0; commenting; n++) {
      const due = epochNow() + COMMENT_EVERY_MS;
      await commenter.mutation(api.comments.addComment, { postId: watched, content: `comment ${n}` });
      const wait = due - epochNow();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  })();

  const phases: Phase[] = [];
  for (const flood of ["none (baseline)", ...FLOODS]) {
    console.log(`${flood} for ${PHASE_SECONDS} s …`);
    const attacker = flood === "none (baseline)" ? null : await startClientProcess(childFile, ["--max-old-space-size=2048"]);
    await bystander.request({ kind: "report", commits: [] }, "report");
    const phaseStart = epochNow();
    const cutsBefore = engine.sync.stats();
    if (attacker !== null) await attacker.request({ kind: "attack", cloudUrl: engine.cloudUrl, flood }, "attacking");
    let rssPeak = process.memoryUsage().rss;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 100);
    const cpuBefore = process.cpuUsage();
    const wallBefore = epochNow();
    await new Promise((resolve) => setTimeout(resolve, PHASE_SECONDS * 1000));
    const cpu = process.cpuUsage(cpuBefore);
    const wall = epochNow() - wallBefore;
    const phaseCommits = [...commits].filter(([, at]) => at >= phaseStart);
    const report = (await bystander.request({ kind: "report", commits: phaseCommits }, "report")) as unknown as { queries: Latency; updates: Latency };
    clearInterval(sampler);
    await attacker?.stop();
    await engine.sync.idle();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    (globalThis as { gc?: () => void }).gc?.();
    const after = engine.sync.stats();
    const cuts = [
      `unacked ${after.flowCuts.unacked - cutsBefore.flowCuts.unacked}`,
      `total ${after.flowCuts.total - cutsBefore.flowCuts.total}`,
      `busy ${after.busyCuts - cutsBefore.busyCuts}`,
    ].join(", ");
    phases.push({ flood, ...report, rssPeak, rssAfter: process.memoryUsage().rss, cpuPercent: ((cpu.user + cpu.system) / 1000 / wall) * 100, cuts });
  }
  commenting = false;
  await comments;
  await bystander.stop();

  const quiet = phases[0]!;
  const mib = (n: number) => (n / 2 ** 20).toFixed(0);
  console.log(`\nA bystander while one anonymous client floods (${PHASE_SECONDS} s each; one-off query every 20 ms, a comment every ${COMMENT_EVERY_MS} ms)`);
  console.table(
    phases.map((p) => ({
      flood: p.flood,
      "query p50": p.queries.p50.toFixed(1),
      "query p99": p.queries.p99.toFixed(1),
      "p99 ratio": (p.queries.p99 / quiet.queries.p99).toFixed(1),
      queries: p.queries.samples,
      "update p50": p.updates.p50.toFixed(1),
      "update p99": p.updates.p99.toFixed(1),
      updates: p.updates.samples,
      "RSS peak MiB": mib(p.rssPeak),
      "RSS after MiB": mib(p.rssAfter),
      "engine CPU %": p.cpuPercent.toFixed(0),
      "connections cut": p.cuts,
    })),
  );
  console.log("targets (issue #10): bystander query p99 < 100 ms and engine RSS < 1 GiB during every flood");

  await bench.close();
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
