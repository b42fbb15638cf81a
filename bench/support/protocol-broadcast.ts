import { createServer } from "node:http";
import { convexToJson, type Value } from "convex/values";
import { WebSocketServer, type WebSocket } from "ws";
import { DEFAULT_FLOW_LIMITS, FlowBudget, SocketFlow } from "../../packages/engine/src/sync/socket-flow";
import { epochNow, startClientProcess } from "./client-process";

/**
 * A baseline for update staleness with the official clients' own cost in it: a server that
 * speaks just enough of Convex's sync protocol for `ConvexClient` (it confirms the
 * `Authenticate` and answers `ModifyQuerySet` with a Transition, as the engine does) and
 * runs no query at all. On a schedule it bumps one post's like or comment count in a feed
 * value fetched from the engine beforehand, and sends every subscribed client a Transition
 * carrying the whole new value, at most one unread at a time (the engine's flow control with
 * a gate of 0 bytes: a client that has not confirmed reading its last Transition gets one
 * with the latest value once it has, so no client is ever behind by more than one). With the
 * engine's 1 MiB gate, a server this fast would queue ~45 feed Transitions per client and
 * measure the queue instead. The clients are the same
 * official `ConvexClient`s, in the same kind of process, recording what they see with the
 * same code as in the engine's run (`subscribers` and `staleness` in
 * `sync-load-clients.ts`). What it measures is therefore what staleness would be with an
 * engine that spent nothing per subscriber: the clients' decoding (`JSON.parse`, then
 * `jsonToConvex` over the value) and the sockets, on the same cores.
 *
 * Hand-written because no library serves this protocol; it covers only what a client that
 * authenticates and subscribes to one query without arguments sends (`Connect`,
 * `Authenticate`, `ModifyQuerySet`; `Event` messages are ignored).
 */

interface Connection {
  flow: SocketFlow;
  querySet: number;
  identity: number;
  /** The `ts` of the last Transition sent (the client's version). */
  ts: bigint;
  queryId: number | null;
  /** The update last sent, and whether a send waits for the client to catch up. */
  sentUpdate: number;
  waiting: boolean;
}

export interface ProtocolBaselineResult {
  p50: number;
  p99: number;
  max: number;
  samples: number;
  /** Samples expected (updates × subscribers); fewer means some were never seen. */
  expected: number;
  transitions: number;
  /** CPU of the subscribers' process over the schedule, and of this process (the server). */
  clientsCpuMs: number;
  serverCpuMs: number;
}

/** A socket of a baseline server under the engine's flow control, and whether a send waits for its client. */
export interface GatedSocket {
  flow: SocketFlow;
  waiting: boolean;
}

/**
 * Calls `send` now when the client is below the flow gate, else once it has caught up: one
 * wait per socket however many updates come meanwhile, and `send` reads the latest state
 * when it runs, so a client behind gets one frame for all of them.
 */
export function sendWhenCaughtUp(socket: GatedSocket, send: () => void): void {
  if (!socket.flow.gated) {
    send();
    return;
  }
  if (socket.waiting) return;
  socket.waiting = true;
  // Called back once below the gate or once the socket ended (where a send does nothing).
  socket.flow.whenDrained(() => {
    socket.waiting = false;
    send();
  });
}

/** `u64` as the sync protocol encodes it: 8 little-endian bytes in base64. */
function encodeTs(ts: bigint): string {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64LE(ts);
  return bytes.toString("base64");
}

const version = (c: { querySet: number; identity: number }, ts: bigint) =>
  `{"querySet":${c.querySet},"identity":${c.identity},"ts":"${encodeTs(ts)}"}`;

/**
 * Runs the baseline: `tokens.length` subscribers in a fresh client process (`childFile`),
 * `rate` ticks a second for `seconds`, of which 8 in 10 change the feed (as the likes and
 * comments among the mutators' likes, comments and follows).
 */
export async function protocolBroadcast(
  childFile: string,
  feed: Record<string, Value>[],
  tokens: string[],
  rate: number,
  seconds: number,
): Promise<ProtocolBaselineResult> {
  const http = createServer((_req, res) => res.writeHead(404).end());
  const server = new WebSocketServer({ server: http, perMessageDeflate: false });
  const budget = new FlowBudget({ ...DEFAULT_FLOW_LIMITS, transitionGateBytes: 0 }, () => performance.now());
  const connections: Connection[] = [];
  let ts = 1n;
  let update = 0;
  let valueText = JSON.stringify(convexToJson(feed as Value));
  let transitions = 0;

  const transition = (c: Connection, next: { querySet: number; identity: number }, modification: string) => {
    c.flow.send(`{"type":"Transition","startVersion":${version(c, c.ts)},"endVersion":${version(next, ts)},"modifications":[${modification}]}`);
    c.querySet = next.querySet;
    c.identity = next.identity;
    c.ts = ts;
    transitions += 1;
  };
  const queryUpdated = (c: Connection) => `{"type":"QueryUpdated","queryId":${c.queryId},"value":${valueText},"logLines":[],"journal":null}`;
  const flush = (c: Connection) => {
    if (c.queryId === null || c.sentUpdate === update) return;
    sendWhenCaughtUp(c, () => {
      c.sentUpdate = update;
      transition(c, c, queryUpdated(c));
    });
  };

  server.on("connection", (ws: WebSocket) => {
    const c: Connection = { flow: new SocketFlow(ws, budget, () => {}), querySet: 0, identity: 0, ts: 0n, queryId: null, sentUpdate: -1, waiting: false };
    connections.push(c);
    ws.on("message", (data) => {
      const message = JSON.parse(String(data)) as
        | { type: "Authenticate"; baseVersion: number }
        | { type: "ModifyQuerySet"; newVersion: number; modifications: { type: "Add" | "Remove"; queryId: number }[] }
        | { type: string };
      if (message.type === "Authenticate") {
        transition(c, { querySet: c.querySet, identity: (message as { baseVersion: number }).baseVersion + 1 }, "");
      } else if (message.type === "ModifyQuerySet") {
        const modify = message as { newVersion: number; modifications: { type: "Add" | "Remove"; queryId: number }[] };
        for (const m of modify.modifications) c.queryId = m.type === "Add" ? m.queryId : null;
        c.sentUpdate = update;
        transition(c, { querySet: modify.newVersion, identity: c.identity }, c.queryId === null ? "" : queryUpdated(c));
      }
    });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(http.address() as { port: number }).port}`;

  const child = await startClientProcess(childFile, ["--max-old-space-size=4096"]);
  await child.request({ kind: "subscribers", cloudUrl: url, tokens }, "ready");

  const commits = new Map<string, number>();
  const cpuBefore = process.cpuUsage();
  const start = epochNow() + 50;
  for (let i = 0; i < rate * seconds; i++) {
    if (i % 10 >= 8) continue;
    const due = start + i * (1000 / rate);
    const wait = due - epochNow();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const post = feed[update % feed.length]!;
    const field = update % 2 === 0 ? "likes" : "comments";
    const count = (post[field] as number) + 1;
    post[field] = count;
    valueText = JSON.stringify(convexToJson(feed as Value));
    ts += 1n;
    update += 1;
    commits.set(`${post._id as string}|${field}|${count}`, epochNow());
    for (const c of connections) flush(c);
  }
  // Every client sent the last update (the ones behind get it as they catch up), then seen.
  const expected = update * tokens.length;
  const deadline = epochNow() + 30_000;
  for (;;) {
    const { samples } = (await child.request({ kind: "seen" }, "seen")) as unknown as { samples: number };
    if (samples >= expected || epochNow() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const serverCpu = process.cpuUsage(cpuBefore);
  const stale = (await child.request({ kind: "staleness", commits: [...commits] }, "staleness")) as unknown as {
    p50: number;
    p99: number;
    max: number;
    samples: number;
    cpuMs: number;
  };
  await child.stop();
  for (const c of server.clients) c.terminate();
  server.close();
  http.close();
  return {
    p50: stale.p50,
    p99: stale.p99,
    max: stale.max,
    samples: stale.samples,
    expected,
    transitions,
    clientsCpuMs: stale.cpuMs,
    serverCpuMs: (serverCpu.user + serverCpu.system) / 1000,
  };
}
