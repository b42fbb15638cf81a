/**
 * The client side of `sync-sustained.bench.ts`, in its own process (see
 * `support/client-process.ts`). Commands:
 *
 * - `subscribers`: N official `ConvexClient`s, each signed in as its own user
 *   and subscribed to `posts.getFeedPosts`; every time one first sees a
 *   post's like or comment count reach a value, the instant is recorded.
 * - `staleness`: given the engine's commit instant of each (post, count),
 *   answers the delays from commit to each subscriber seeing it.
 * - `seen`: how many (count, subscriber) sightings are recorded so far (the
 *   protocol baseline, `support/protocol-broadcast.ts`, waits for all of them).
 * - `mutators`: M official clients that like, comment and follow on an
 *   open-loop schedule (one call every `1000 / rate` ms, whatever the
 *   previous ones are doing); answers each call's latency from its
 *   scheduled instant to its promise settling (which waits for the
 *   Transition that shows it, §5.5).
 * - `raw` / `raw-run`: N bare sockets to a plain `ws` server; each frame
 *   carries the instants of the updates it covers. `raw-run` answers, once
 *   every socket has seen every update, the delays from each update's
 *   instant to each socket parsing the frame that carried it.
 */
import { ConvexClient } from "convex/browser";
import { WebSocket } from "ws";
import { api } from "../convex/_generated/api";
import type { Id } from "../convex/_generated/dataModel";
import { closeAndExit, epochNow, exitWithBench, percentiles, replyToBench } from "./support/client-process";

type Command =
  | { kind: "subscribers"; cloudUrl: string; tokens: string[] }
  | { kind: "staleness"; commits: [string, number][] }
  | { kind: "seen" }
  | { kind: "mutators"; cloudUrl: string; tokens: string[]; posts: string[]; users: string[]; rate: number; seconds: number }
  | { kind: "raw"; url: string; count: number }
  | { kind: "raw-run"; updates: number }
  | { kind: "stop" };

const reply = replyToBench;
const clients: ConvexClient[] = [];
const sockets: WebSocket[] = [];

/** `post|likes|count` → when each subscriber first saw that count (or more). */
const seen = new Map<string, number[]>();
/** How many (count, subscriber) sightings `seen` holds. */
let sightings = 0;
/** CPU time of this process when its subscribers were all ready. */
let cpuAtReady = process.cpuUsage();

function observe(last: Map<string, number>, postId: string, field: "likes" | "comments", value: number): void {
  const key = `${postId}|${field}`;
  const before = last.get(key);
  last.set(key, value);
  if (before === undefined || value <= before) return;
  const now = epochNow();
  for (let count = before + 1; count <= value; count++) {
    const sampleKey = `${key}|${count}`;
    let list = seen.get(sampleKey);
    if (list === undefined) seen.set(sampleKey, (list = []));
    list.push(now);
    sightings += 1;
  }
}

async function startSubscribers(command: Extract<Command, { kind: "subscribers" }>): Promise<void> {
  const BATCH = 100;
  for (let start = 0; start < command.tokens.length; start += BATCH) {
    await Promise.all(
      command.tokens.slice(start, start + BATCH).map(
        (token) =>
          new Promise<void>((resolve) => {
            const client = new ConvexClient(command.cloudUrl, { logger: false });
            clients.push(client);
            client.setAuth(async () => token);
            const last = new Map<string, number>();
            let first = true;
            client.onUpdate(api.posts.getFeedPosts, {}, (feed) => {
              for (const post of feed) {
                observe(last, post._id, "likes", post.likes);
                observe(last, post._id, "comments", post.comments);
              }
              if (first) resolve();
              first = false;
            });
          }),
      ),
    );
  }
  cpuAtReady = process.cpuUsage();
  reply({ kind: "ready" });
}

function staleness(command: Extract<Command, { kind: "staleness" }>): void {
  const commits = new Map(command.commits);
  const delays: number[] = [];
  let unmatched = 0;
  for (const [key, times] of seen) {
    const committedAt = commits.get(key);
    if (committedAt === undefined) {
      unmatched += times.length;
      continue;
    }
    for (const t of times) delays.push(t - committedAt);
  }
  // CPU this process spent since its subscribers were ready: parsing, applying, callbacks.
  const cpu = process.cpuUsage(cpuAtReady);
  reply({ kind: "staleness", samples: delays.length, unmatched, ...percentiles(delays), cpuMs: (cpu.user + cpu.system) / 1000 });
}

async function runMutators(command: Extract<Command, { kind: "mutators" }>): Promise<void> {
  const mutators = await Promise.all(
    command.tokens.map(async (token) => {
      const client = new ConvexClient(command.cloudUrl, { logger: false });
      clients.push(client);
      await new Promise<void>((resolve) => client.setAuth(async () => token, (ok) => ok && resolve()));
      return client;
    }),
  );
  const liked = mutators.map(() => 0);
  const latencies: number[] = [];
  let failures = 0;
  const total = Math.round(command.rate * command.seconds);
  const interval = 1000 / command.rate;
  const start = epochNow() + 50;
  const cpuBefore = process.cpuUsage();
  const calls: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + i * interval;
    const wait = due - epochNow();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const m = i % mutators.length;
    const client = mutators[m]!;
    // Likes never repeat (a user likes each post once), so like counts only grow.
    const kind = i % 10 < 5 && liked[m]! < command.posts.length ? "like" : i % 10 < 8 ? "comment" : "follow";
    let call: Promise<unknown>;
    if (kind === "like") call = client.mutation(api.posts.toggleLike, { postId: command.posts[liked[m]++]! as Id<"posts"> });
    else if (kind === "comment") call = client.mutation(api.comments.addComment, { postId: command.posts[i % command.posts.length]! as Id<"posts">, content: `comment ${i}` });
    else call = client.mutation(api.users.toggleFollow, { followingId: command.users[(m + 1 + (i % 7)) % command.users.length]! as Id<"users"> });
    calls.push(
      call.then(
        () => void latencies.push(epochNow() - due),
        () => void (failures += 1),
      ),
    );
  }
  await Promise.all(calls);
  const cpu = process.cpuUsage(cpuBefore);
  reply({ kind: "mutated", calls: total, failures, ...percentiles(latencies), seconds: (epochNow() - start) / 1000, cpuMs: (cpu.user + cpu.system) / 1000 });
}

const rawDelays: number[] = [];
/** Updates seen per raw socket, and the `raw-run` waiting for every socket to see them all. */
const rawSeen: number[] = [];
let rawWait: { updates: number } | null = null;

function answerRawRun(): void {
  if (rawWait === null || rawSeen.some((n) => n < rawWait!.updates)) return;
  rawWait = null;
  reply({ kind: "raw-delays", samples: rawDelays.length, ...percentiles(rawDelays) });
}

async function startRaw(command: Extract<Command, { kind: "raw" }>): Promise<void> {
  await Promise.all(
    Array.from({ length: command.count }, (_, index) => {
      const ws = new WebSocket(command.url, { perMessageDeflate: false });
      sockets.push(ws);
      rawSeen.push(0);
      ws.on("message", (data) => {
        const message = JSON.parse(data.toString()) as { updates: number[] };
        const now = epochNow();
        for (const at of message.updates) rawDelays.push(now - at);
        rawSeen[index]! += message.updates.length;
        answerRawRun();
      });
      return new Promise<void>((resolve, reject) => {
        ws.once("open", () => resolve());
        ws.once("error", reject);
      });
    }),
  );
  reply({ kind: "ready" });
}

exitWithBench();
process.on("message", (command: Command) => {
  switch (command.kind) {
    case "subscribers":
      void startSubscribers(command);
      return;
    case "staleness":
      staleness(command);
      return;
    case "seen":
      reply({ kind: "seen", samples: sightings });
      return;
    case "mutators":
      void runMutators(command);
      return;
    case "raw":
      void startRaw(command);
      return;
    case "raw-run":
      rawWait = { updates: command.updates };
      answerRawRun();
      return;
    case "stop":
      closeAndExit(clients, sockets);
      return;
  }
});
reply({ kind: "started" });
