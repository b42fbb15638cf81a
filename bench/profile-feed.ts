/**
 * Profiling harness (not a benchmark: `npm run bench` skips it) for the uncached feed
 * page of `feed-and-likes.bench.ts`: same data (1,000 users, 10,000 posts, 100,000
 * likes), the query cache off, `posts.getGlobalFeed` through `ConvexHttpClient` for
 * SECONDS_ seconds with INFLIGHT requests in flight on WORKERS query workers; MODE=sql
 * times the hand-written SQL behind node:http instead. It prints the CPU time of every
 * thread of the process per page (from /proc, Linux only), so the main thread, the query
 * worker and V8's helper threads (GC) show apart, and the measuring window's bounds in
 * the clock of `--cpu-prof` profiles:
 *
 *   node scripts/run-ts.mjs bench/profile-feed.ts   # builds dist/bench/profile-feed.mjs
 *   node --cpu-prof --cpu-prof-dir=prof dist/bench/profile-feed.mjs
 *
 * `--cpu-prof` writes one profile per thread (the worker's too). Its samples are wall
 * time: on a loaded machine a thread preempted inside `postMessage` shows there, so
 * compare a profile's shares with the per-thread CPU printed here.
 *
 * MODE=rerun models the re-runs after one commit instead: `posts.getFeedPosts` (50 posts)
 * through `runtime.runTracked` in process (no HTTP, read sets recorded), each run as a
 * different signed-in user of the 1,000, all at the same snapshot. QUERY names another
 * query without arguments to re-run instead (QUERY=users:getCurrentUser: one indexed read,
 * so mostly what every run costs whatever it reads).
 *
 * CLIENTS=process (default and sql modes) runs the clients in a child process (this same
 * script, unprofiled), so the threads printed are the server's alone: the engine's main
 * thread without the `ConvexHttpClient`'s share, which is about half of it in process.
 */
import { ConvexHttpClient } from "convex/browser";
import { fork } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { api } from "../convex/_generated/api";
import { randomTools, seededRandom } from "../packages/engine/test/support/seeded-random";
import { buildBaseline, PAGE, seed, serveBaseline, USERS } from "./fixtures/feed-data";
import { startAppEngine } from "./support/app-engine";

const SECONDS = Number(process.env.SECONDS_ ?? 15);
const WORKERS = Number(process.env.WORKERS ?? 1);
const IN_FLIGHT = Number(process.env.INFLIGHT ?? 1);
const VIEWERS = 50;
/** MODE=rerun's query (no arguments); QUERY=users:getCurrentUser shows a run's fixed cost. */
const RERUN_QUERY = process.env.QUERY ?? "posts:getFeedPosts";

/** CPU ticks (user + system, 1/100 s) of every thread of this process, by "tid name". */
function threadTicks(): Map<string, number> {
  const ticks = new Map<string, number>();
  for (const tid of readdirSync("/proc/self/task")) {
    const fields = readFileSync(`/proc/self/task/${tid}/stat`, "utf8").split(") ")[1]!.split(" ");
    const name = readFileSync(`/proc/self/task/${tid}/comm`, "utf8").trim();
    ticks.set(`${tid} ${name}`, Number(fields[11]) + Number(fields[12]));
  }
  return ticks;
}

/** What the child process of CLIENTS=process is handed: where to send requests and as whom. */
interface ClientSetup {
  cloudUrl: string;
  tokens: string[];
  /** The baseline's URL in MODE=sql, else null. */
  sqlUrl: string | null;
}

/** The child of CLIENTS=process: warms up, says so, runs the window when told, reports its page count. */
async function clientProcess(setup: ClientSetup): Promise<never> {
  const clients = setup.tokens.map((token) => {
    const client = new ConvexHttpClient(setup.cloudUrl, { logger: false });
    client.setAuth(token);
    return client;
  });
  const page = async (i: number): Promise<unknown> =>
    setup.sqlUrl !== null
      ? (await fetch(`${setup.sqlUrl}?i=${i}`)).json()
      : clients[i % clients.length]!.query(api.posts.getGlobalFeed, { paginationOpts: { numItems: PAGE, cursor: null } });
  for (let i = 0; i < 300; i++) await page(i);
  const go = new Promise((resolve) => process.once("message", resolve));
  process.send!("ready");
  await go;
  const { pages, wall } = await measureWindow(page);
  process.send!({ pages, wall }, () => process.exit(0));
  return new Promise<never>(() => {});
}

/** Runs `page` for SECONDS with IN_FLIGHT requests in flight. */
async function measureWindow(page: (i: number) => Promise<unknown>): Promise<{ pages: number; wall: number }> {
  let pages = 0;
  const t0 = performance.now();
  const deadline = t0 + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (performance.now() < deadline) await page(pages++);
    }),
  );
  return { pages, wall: performance.now() - t0 };
}

const CHILD_SETUP = process.env.PROFILE_FEED_CHILD;
if (CHILD_SETUP !== undefined) await clientProcess(JSON.parse(CHILD_SETUP) as ClientSetup);
const CLIENTS_APART = process.env.CLIENTS === "process";
if (CLIENTS_APART && process.env.MODE === "rerun") throw new Error("CLIENTS=process needs the default or sql mode (rerun has no clients).");

const running = await startAppEngine("prof-feed-", { queryCache: false, queryWorkers: WORKERS });
const { engine, issuer } = running;
const rng = randomTools(seededRandom(42));
const seeded = await seed(engine, rng);
const viewers = Array.from({ length: VIEWERS }, () => rng.int(0, USERS - 1));
const tokens = await Promise.all(viewers.map((u) => issuer.mint({ sub: seeded.clerkIds[u]! })));
const clients = tokens.map((token) => {
  const client = new ConvexHttpClient(engine.cloudUrl, { logger: false });
  client.setAuth(token);
  return client;
});
const baselineDb = buildBaseline(seeded);
const sqlServer = await serveBaseline((i: number) => baselineDb.page(seeded.userIds[viewers[i % VIEWERS]!]!));
const enginePage = (i: number) =>
  clients[i % VIEWERS]!.query(api.posts.getGlobalFeed, { paginationOpts: { numItems: PAGE, cursor: null } });
const sqlPage = async (i: number) => (await fetch(`${sqlServer.url}?i=${i}`)).json();
const runtime = engine.app.runtime;
const rerun = async (i: number) => {
  const u = i % USERS;
  const { outcome } = await runtime.runTracked({
    path: RERUN_QUERY,
    args: {},
    identity: { subject: seeded.clerkIds[u]!, issuer: issuer.issuer, tokenIdentifier: `${issuer.issuer}|${seeded.clerkIds[u]!}` },
    allowInternal: false,
    origin: "client",
  });
  if (outcome.status !== "success") throw new Error(outcome.errorMessage);
};
const page = process.env.MODE === "sql" ? sqlPage : process.env.MODE === "rerun" ? rerun : enginePage;

/** The clients' process under CLIENTS=process, once it has warmed up; null when they run here. */
const child = CLIENTS_APART ? await startClientProcess() : null;
if (child === null) for (let i = 0; i < 300; i++) await page(i);
console.log(`window-start ${process.hrtime.bigint() / 1000n}`);
const before = threadTicks();
const cpu = process.cpuUsage();
const { pages, wall } = child === null ? await measureWindow(page) : await child.window();
const used = process.cpuUsage(cpu);
console.log(`window-end ${process.hrtime.bigint() / 1000n}`);
for (const [thread, ticks] of threadTicks()) {
  const spent = ticks - (before.get(thread) ?? 0);
  if (spent > 0) console.log(`  thread ${thread}: ${((spent * 10) / pages).toFixed(3)} CPU ms/page`);
}
const cpuMs = (used.user + used.system) / 1000;
const whose = child === null ? "" : " (server only: the clients ran in another process)";
console.log(`${pages} pages in ${(wall / 1000).toFixed(1)} s: ${(wall / pages).toFixed(3)} ms/page, ${(cpuMs / pages).toFixed(3)} CPU ms/page${whose}`);
await running.close();
await sqlServer.close();

/** Starts this script as the clients' process (without this process's profiling flags) and waits until it has warmed up. */
async function startClientProcess() {
  const setup: ClientSetup = { cloudUrl: engine.cloudUrl, tokens, sqlUrl: process.env.MODE === "sql" ? sqlServer.url : null };
  const proc = fork(process.argv[1]!, [], { execArgv: [], env: { ...process.env, PROFILE_FEED_CHILD: JSON.stringify(setup) } });
  await new Promise((resolve, reject) => {
    proc.once("message", resolve);
    proc.once("exit", (code) => reject(new Error(`the clients' process exited (${code}) before warming up`)));
  });
  return {
    window: () =>
      new Promise<{ pages: number; wall: number }>((resolve) => {
        proc.once("message", (m) => resolve(m as { pages: number; wall: number }));
        proc.send("go");
      }),
  };
}
