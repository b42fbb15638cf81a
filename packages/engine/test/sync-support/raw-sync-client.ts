import { WebSocket } from "ws";

/**
 * A bare WebSocket speaking the sync protocol by hand, for what the official
 * client never does on purpose (wrong versions, garbage frames) and for
 * checking exact frames. Everything else is tested with the official client.
 */
export interface RawSyncClient {
  /** Every message received, Pings included, in order. */
  readonly received: Record<string, unknown>[];
  send(message: Record<string, unknown>): void;
  /** Sends a frame as is. */
  sendText(text: string): void;
  /** The next message of `type` not yet returned by `next` (Pings are only returned when asked for). */
  next(type: string): Promise<Record<string, unknown>>;
  /** Resolves when the server closes the socket. */
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Stops reading from the socket (the server's sends back up), and starts again. */
  pause(): void;
  resume(): void;
  close(): void;
}

/** Opens a raw connection to `/api/<version>/sync` of `cloudUrl`. */
export async function openRawSync(cloudUrl: string, version = "1.48.0"): Promise<RawSyncClient> {
  const ws = new WebSocket(`${cloudUrl.replace(/^http/, "ws")}/api/${version}/sync`);
  const received: Record<string, unknown>[] = [];
  let consumed = 0;
  const taken = new Set<number>();
  let waiters: (() => void)[] = [];
  const wake = () => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  ws.on("message", (data) => {
    received.push(JSON.parse(data.toString()) as Record<string, unknown>);
    wake();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on("close", (code, reason) => {
      resolve({ code, reason: reason.toString() });
      wake();
    }),
  );
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  return {
    received,
    send: (message) => ws.send(JSON.stringify(message)),
    sendText: (text) => ws.send(text),
    async next(type) {
      for (;;) {
        for (let i = consumed; i < received.length; i++) {
          if (taken.has(i) || received[i]!.type !== type) continue;
          taken.add(i);
          while (taken.has(consumed)) consumed++;
          return received[i]!;
        }
        if (ws.readyState === WebSocket.CLOSED) throw new Error(`socket closed before a ${type} arrived`);
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
    closed,
    pause: () => ws.pause(),
    resume: () => ws.resume(),
    close: () => ws.close(),
  };
}
