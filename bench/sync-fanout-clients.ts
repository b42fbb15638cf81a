/**
 * The client side of `sync-fanout.bench.ts`, run in its own process so the
 * clients' work (parsing, applying Transitions, callbacks) does not share an
 * event loop with the engine. Driven over IPC by the benchmark:
 *
 * - `official`: N official `ConvexClient`s, each with its own token, each
 *   subscribed to `posts.getFeedPosts`; on `expect`, records when each one
 *   first sees the post's like count reach the expected value.
 * - `raw`: N bare WebSockets to a plain `ws` server; on `raw-expect`, records
 *   when each receives (and parses) one message.
 * - `idle`: N bare sync sessions (Connect + an empty query set), held open
 *   so the engine's memory per idle session can be measured.
 */
import { ConvexClient } from "convex/browser";
import { WebSocket } from "ws";
import { api } from "../convex/_generated/api";
import { closeAndExit, epochNow, exitWithBench, replyToBench } from "./support/client-process";

type Command =
  | { kind: "official"; cloudUrl: string; tokens: string[]; postId: string }
  | { kind: "expect"; likes: number }
  | { kind: "raw"; url: string; count: number }
  | { kind: "raw-expect" }
  | { kind: "idle"; cloudUrl: string; count: number }
  | { kind: "stop" };

const reply = replyToBench;

const clients: ConvexClient[] = [];
const sockets: WebSocket[] = [];
let postId = "";
/** Latest like count each official client has seen for the post. */
let likesSeen: number[] = [];
let expected: number | null = null;
let times: number[] = [];
let remaining = 0;
/** CPU time of this process since the last `expect`, to tell client-side work apart. */
let cpuAtArm = process.cpuUsage();

function record(index: number): void {
  if (times[index] !== 0) return;
  times[index] = epochNow();
  remaining -= 1;
  if (remaining === 0) {
    expected = null;
    const cpu = process.cpuUsage(cpuAtArm);
    reply({ kind: "seen", times, cpuMs: (cpu.user + cpu.system) / 1000 });
  }
}

async function startOfficial(command: Extract<Command, { kind: "official" }>): Promise<void> {
  postId = command.postId;
  likesSeen = command.tokens.map(() => -1);
  const BATCH = 100;
  for (let start = 0; start < command.tokens.length; start += BATCH) {
    const batch = command.tokens.slice(start, start + BATCH);
    await Promise.all(
      batch.map(
        (token, offset) =>
          new Promise<void>((resolve) => {
            const index = start + offset;
            const client = new ConvexClient(command.cloudUrl, { logger: false });
            clients.push(client);
            client.setAuth(async () => token);
            client.onUpdate(api.posts.getFeedPosts, {}, (feed) => {
              const likes = feed.find((p) => p._id === postId)?.likes ?? -1;
              const first = likesSeen[index] === -1;
              likesSeen[index] = likes;
              if (first) resolve();
              if (expected !== null && likes === expected) record(index);
            });
          }),
      ),
    );
  }
  reply({ kind: "ready", rss: process.memoryUsage().rss });
}

async function startRaw(command: Extract<Command, { kind: "raw" }>): Promise<void> {
  const opened = Array.from({ length: command.count }, (_, index) => {
    const ws = new WebSocket(command.url, { perMessageDeflate: false });
    sockets.push(ws);
    ws.on("message", (data) => {
      JSON.parse(data.toString());
      if (expected !== null) record(index);
    });
    return new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
  });
  await Promise.all(opened);
  reply({ kind: "ready" });
}

async function startIdle(command: Extract<Command, { kind: "idle" }>): Promise<void> {
  const url = `${command.cloudUrl.replace(/^http/, "ws")}/api/1.48.0/sync`;
  const BATCH = 500;
  for (let start = 0; start < command.count; start += BATCH) {
    await Promise.all(
      Array.from({ length: Math.min(BATCH, command.count - start) }, () => {
        const ws = new WebSocket(url, { perMessageDeflate: false });
        sockets.push(ws);
        return new Promise<void>((resolve, reject) => {
          ws.once("error", reject);
          ws.once("open", () => {
            // What an official client with no queries sends on connect.
            ws.send(JSON.stringify({ type: "Connect", sessionId: crypto.randomUUID(), connectionCount: 0, lastCloseReason: "InitialConnect", clientTs: Date.now() }));
            ws.send(JSON.stringify({ type: "ModifyQuerySet", baseVersion: 0, newVersion: 1, modifications: [] }));
          });
          ws.once("message", () => resolve());
        });
      }),
    );
  }
  reply({ kind: "ready" });
}

exitWithBench();
process.on("message", (command: Command) => {
  switch (command.kind) {
    case "official":
      void startOfficial(command);
      return;
    case "raw":
      void startRaw(command);
      return;
    case "idle":
      void startIdle(command);
      return;
    case "expect":
    case "raw-expect": {
      const count = command.kind === "expect" ? clients.length : sockets.length;
      times = new Array<number>(count).fill(0);
      remaining = count;
      expected = command.kind === "expect" ? command.likes : 0;
      cpuAtArm = process.cpuUsage();
      reply({ kind: "armed" });
      return;
    }
    case "stop":
      closeAndExit(clients, sockets);
      return;
  }
});
reply({ kind: "started" });
