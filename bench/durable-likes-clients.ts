/**
 * The client side of `durable-likes.bench.ts`, in its own process so the clients' work
 * (encoding, WebSocket frames, parsing answers) does not share an event loop or a CPU
 * budget with the engine. On `run`, N official `ConvexClient`s (each signed in as a
 * different user, each its own WebSocket) call `posts.toggleLike` on posts drawn from a
 * seeded random source, one mutation in flight per client, for a fixed time. A mutation
 * over the sync protocol resolves only after the engine reports it committed (durable).
 * `connect` first connects, signs in and runs one mutation per client, so the measured
 * window (`run`, and the engine's CPU between the benchmark's marks) leaves that out.
 */
import { ConvexClient } from "convex/browser";
import { api } from "../convex/_generated/api";
import type { Id } from "../convex/_generated/dataModel";
import { randomTools, seededRandom } from "../packages/engine/test/support/seeded-random";
import { exitWithBench } from "./support/client-process";

type Command =
  | { kind: "connect"; cloudUrl: string; tokens: string[]; postIds: string[]; seed: number }
  | { kind: "run"; seconds: number }
  | { kind: "stop" };

const reply = (message: Record<string, unknown>) => process.send!(message);

let connected: { clients: ConvexClient[]; postId: () => Id<"posts"> } | null = null;

async function connect(command: Extract<Command, { kind: "connect" }>): Promise<void> {
  const rng = randomTools(seededRandom(command.seed));
  const postId = () => command.postIds[rng.int(0, command.postIds.length - 1)] as Id<"posts">;
  const clients = command.tokens.map((token) => {
    const client = new ConvexClient(command.cloudUrl, { logger: false });
    client.setAuth(async () => token);
    return client;
  });
  connected = { clients, postId };
  // Each client connects, authenticates and runs one mutation before the clock starts.
  await Promise.all(clients.map((c) => c.mutation(api.posts.toggleLike, { postId: postId() })));
  reply({ kind: "connected" });
}

async function run(command: Extract<Command, { kind: "run" }>): Promise<void> {
  const { clients, postId } = connected!;
  try {
    const latencies: number[] = [];
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    const deadline = t0 + command.seconds * 1000;
    await Promise.all(
      clients.map(async (c) => {
        while (performance.now() < deadline) {
          const t = performance.now();
          await c.mutation(api.posts.toggleLike, { postId: postId() });
          latencies.push(performance.now() - t);
        }
      }),
    );
    const wallMs = performance.now() - t0;
    const used = process.cpuUsage(cpu);
    latencies.sort((a, b) => a - b);
    const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] ?? 0;
    reply({
      kind: "ran",
      likes: latencies.length,
      wallMs,
      cpuMs: (used.user + used.system) / 1000,
      p50: at(0.5),
      p99: at(0.99),
    });
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}

exitWithBench();
process.on("message", (command: Command) => {
  switch (command.kind) {
    case "connect":
      connect(command).catch((e: unknown) => {
        console.error(e);
        process.exit(1);
      });
      return;
    case "run":
      run(command).catch((e: unknown) => {
        console.error(e);
        process.exit(1);
      });
      return;
    case "stop":
      process.exit(0);
  }
});
reply({ kind: "ready" });
