/**
 * The client side of `sync-floods.bench.ts`, in its own process (see
 * `support/client-process.ts`). Either a bystander or an attacker:
 *
 * - `bystander`: one-off HTTP queries every 20 ms (`users.getUserByClerkId`
 *   with a fresh argument each time, so the query cache never answers), and
 *   an official `ConvexClient` subscribed to `posts.getPost` of a post whose
 *   comment count keeps growing; `report` answers the query latencies and
 *   the delays from each comment's commit to the client seeing it.
 * - `attack`: one anonymous client running a flood until `stop`: thousands
 *   of subscriptions on one socket, a crowd of sockets that stop reading,
 *   frames of 16 MB and just above the frame limit, deeply nested frames, or a
 *   mutation flood; closed sockets are reopened at once.
 */
import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { WebSocket } from "ws";
import { api } from "../convex/_generated/api";
import type { Id } from "../convex/_generated/dataModel";
import { MAX_REQUEST_JSON_BYTES } from "../packages/engine/src/values/value-limits";
import { epochNow, exitWithBench, percentiles, replyToBench } from "./support/client-process";

export type Flood = "subscriptions" | "paused sockets" | "big frames" | "deep nesting" | "mutation flood";

type Command =
  | { kind: "bystander"; cloudUrl: string; postId: string }
  | { kind: "report"; commits: [number, number][] }
  | { kind: "attack"; cloudUrl: string; flood: Flood }
  | { kind: "stop" };

const reply = replyToBench;
let stopping = false;
const sockets = new Set<WebSocket>();

// --- bystander ---
let queryLatencies: number[] = [];
/** Comment count → when the bystander first saw it. */
let seenComments = new Map<number, number>();
let subscriber: ConvexClient | null = null;

async function bystander(command: Extract<Command, { kind: "bystander" }>): Promise<void> {
  const http = new ConvexHttpClient(command.cloudUrl, { logger: false });
  subscriber = new ConvexClient(command.cloudUrl, { logger: false });
  let last = -1;
  await new Promise<void>((resolve) =>
    subscriber!.onUpdate(api.posts.getPost, { postId: command.postId as Id<"posts"> }, (post) => {
      const comments = post?.comments ?? 0;
      const now = epochNow();
      for (let count = last + 1; count <= comments; count++) if (!seenComments.has(count)) seenComments.set(count, now);
      last = Math.max(last, comments);
      resolve();
    }),
  );
  reply({ kind: "ready" });
  let n = 0;
  for (;;) {
    const due = epochNow() + 20;
    const started = epochNow();
    await http.query(api.users.getUserByClerkId, { clerkId: `nobody-${process.pid}-${n++}` });
    queryLatencies.push(epochNow() - started);
    const wait = due - epochNow();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

function report(command: Extract<Command, { kind: "report" }>): void {
  const delays: number[] = [];
  for (const [count, committedAt] of command.commits) {
    const seenAt = seenComments.get(count);
    if (seenAt !== undefined) delays.push(seenAt - committedAt);
  }
  reply({ kind: "report", queries: { samples: queryLatencies.length, ...percentiles(queryLatencies) }, updates: { samples: delays.length, ...percentiles(delays) } });
  queryLatencies = [];
}

// --- attacker ---
function open(cloudUrl: string): Promise<WebSocket> {
  const ws = new WebSocket(`${cloudUrl.replace(/^http/, "ws")}/api/1.48.0/sync`, { perMessageDeflate: false, maxPayload: 256 << 20 });
  sockets.add(ws);
  ws.on("close", () => sockets.delete(ws));
  ws.on("error", () => {});
  return new Promise((resolve) => {
    ws.once("open", () => {
      ws.send(JSON.stringify({ type: "Connect", sessionId: crypto.randomUUID(), connectionCount: 0, lastCloseReason: "InitialConnect", clientTs: Date.now() }));
      resolve(ws);
    });
    ws.once("error", () => resolve(ws));
  });
}

const closed = (ws: WebSocket) => new Promise<void>((resolve) => (ws.readyState === WebSocket.CLOSED ? resolve() : ws.once("close", () => resolve())));
const querySet = (modifications: unknown[]) => JSON.stringify({ type: "ModifyQuerySet", baseVersion: 0, newVersion: 1, modifications });

async function attack(command: Extract<Command, { kind: "attack" }>): Promise<void> {
  const { cloudUrl } = command;
  switch (command.flood) {
    case "subscriptions": {
      // One socket, the most live queries a connection may hold, each reading the whole feed.
      const ws = await open(cloudUrl);
      ws.send(querySet(Array.from({ length: 4_096 }, (_, i) => ({ type: "Add", queryId: i, udfPath: "posts:getGlobalFeed", args: [{ paginationOpts: { numItems: 10, cursor: null, id: i } }] }))));
      break;
    }
    case "paused sockets":
      // Two hundred subscribers that stop reading once subscribed.
      for (let i = 0; i < 200; i++) {
        const ws = await open(cloudUrl);
        ws.send(querySet([{ type: "Add", queryId: 0, udfPath: "posts:getFeedPosts", args: [{}] }]));
        ws.once("message", () => ws.pause());
      }
      break;
    case "big frames": {
      // One socket sending 16 MB frames back to back (each parsed, then refused by validation), and
      // fresh sockets sending frames just over the frame limit (refused as they start).
      const under = JSON.stringify({ type: "Mutation", requestId: 0, udfPath: "users:updateProfile", args: [{ fullname: "x".repeat(16_000_000) }] });
      const over = "x".repeat(MAX_REQUEST_JSON_BYTES + 1);
      const steady = await open(cloudUrl);
      let requestId = 0;
      const sendUnder = () => steady.send(under.replace('"requestId":0', `"requestId":${requestId++}`));
      steady.on("message", (data) => {
        if (!stopping && data.toString().startsWith('{"type":"MutationResponse"')) sendUnder();
      });
      sendUnder();
      sendUnder();
      reply({ kind: "attacking" });
      while (!stopping) {
        const ws = await open(cloudUrl);
        ws.send(over);
        await closed(ws);
      }
      return;
    }
    case "deep nesting": {
      const deep = `${"[".repeat(20_000)}1${"]".repeat(20_000)}`;
      const add = `{"type":"ModifyQuerySet","baseVersion":0,"newVersion":1,"modifications":[{"type":"Add","queryId":0,"udfPath":"posts:getPost","args":[{"postId":${deep}}]}]}`;
      reply({ kind: "attacking" });
      while (!stopping) {
        const ws = await open(cloudUrl);
        ws.send(add);
        await closed(ws);
      }
      return;
    }
    case "mutation flood":
      reply({ kind: "attacking" });
      while (!stopping) {
        const ws = await open(cloudUrl);
        for (let i = 0; i < 2_000 && ws.readyState === WebSocket.OPEN; i++) {
          ws.send(JSON.stringify({ type: "Mutation", requestId: i, udfPath: "posts:toggleLike", args: [{ postId: "nope" }] }));
        }
        await closed(ws);
      }
      return;
  }
  reply({ kind: "attacking" });
}

exitWithBench();
process.on("message", (command: Command) => {
  switch (command.kind) {
    case "bystander":
      void bystander(command);
      return;
    case "report":
      report(command);
      return;
    case "attack":
      void attack(command);
      return;
    case "stop":
      stopping = true;
      for (const ws of sockets) ws.terminate();
      void subscriber?.close().then(() => process.exit(0));
      if (subscriber === null) process.exit(0);
      return;
  }
});
reply({ kind: "started" });
