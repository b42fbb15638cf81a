import { Agent, createServer, request, type IncomingMessage, type Server } from "node:http";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { isEngineError } from "../src/errors";
import { readBody, readJsonBody } from "../src/http/request-body";

// `readBody` on node:http's requests: a body with a declared length is done once that many
// bytes are in (before node:http emits the request's end); a chunked one at its end. Both
// give the same bytes and the same refusals.

interface Read {
  body: string | null;
  error: string | null;
  /** Whether the request had emitted its end when the body was done. */
  endedFirst: boolean;
}

let server: Server;
let port: number;
let agent: Agent;
let reads: Read[];
let limit = 1 << 16;

beforeEach(async () => {
  reads = [];
  limit = 1 << 16;
  server = createServer((req, res) => {
    void (async () => {
      // As the function endpoints do: the caller's identity is awaited before the body is read.
      await Promise.resolve();
      const read: Read = { body: null, error: null, endedFirst: false };
      try {
        read.body = (await readBody(req, limit)).toString("utf8");
      } catch (e) {
        read.error = isEngineError(e) ? `${e.code}: ${e.message}` : String(e);
      }
      read.endedFirst = req.readableEnded;
      reads.push(read);
      res.end(read.body ?? read.error ?? "");
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as { port: number }).port;
  agent = new Agent({ keepAlive: true, maxSockets: 1 });
});

afterEach(async () => {
  agent.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** POSTs `parts` (written with a pause between them), with a Content-Length unless `chunked`. */
function post(parts: string[], chunked = false): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const total = Buffer.byteLength(parts.join(""));
    const req = request(
      { host: "127.0.0.1", port, method: "POST", path: "/api/query", agent, headers: chunked ? {} : { "Content-Length": total } },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode!, text: Buffer.concat(chunks).toString("utf8") }));
      },
    );
    req.on("error", reject);
    void (async () => {
      for (const [i, part] of parts.entries()) {
        if (i > 0) await new Promise((r) => setTimeout(r, 20));
        req.write(part);
      }
      req.end();
    })();
  });
}

describe("readBody", () => {
  test("a body of declared length is done as its last byte arrives; a chunked one at its end; same bytes", async () => {
    const json = JSON.stringify({ path: "posts:getGlobalFeed", args: [{ paginationOpts: { numItems: 20, cursor: null } }], note: "ünïcødé ✓" });
    const halves = [json.slice(0, 20), json.slice(20)];
    await post([json]);
    await post(halves);
    await post(halves, true);
    await post([json], true);
    expect(reads.map((r) => r.body)).toEqual([json, json, json, json]);
    expect(reads.map((r) => r.error)).toEqual([null, null, null, null]);
    // Declared length: done before node:http's end; chunked: at it (the one way to know).
    expect(reads.map((r) => r.endedFirst)).toEqual([false, false, true, true]);
  });

  test("four requests on one kept-alive connection, each read before its end, each answered", async () => {
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await post([JSON.stringify({ i })]));
    expect(answers).toEqual([0, 1, 2, 3].map((i) => ({ status: 200, text: JSON.stringify({ i }) })));
    expect(reads.every((r) => !r.endedFirst)).toBe(true);
  });

  test("an empty body, and bodies over the limit, declared or chunked", async () => {
    await post([]);
    limit = 10;
    await post(["x".repeat(11)]);
    await post(["x".repeat(6), "x".repeat(6)], true);
    await post(["x".repeat(10)]);
    expect(reads.map((r) => [r.body, r.error])).toEqual([
      ["", null],
      [null, "PayloadTooLarge: Request body of 11 bytes exceeds the limit of 10 bytes."],
      [null, "PayloadTooLarge: Request body exceeds the limit of 10 bytes."],
      ["x".repeat(10), null],
    ]);
  });

  test("readJsonBody parses the early-done body as the ended one", async () => {
    const parsed: unknown[] = [];
    server.removeAllListeners("request");
    server.on("request", (req, res) => {
      void (async () => {
        await Promise.resolve();
        parsed.push(await readJsonBody(req, limit));
        res.end("ok");
      })();
    });
    const value = { a: [1, 2, { b: "c" }], d: null };
    await post([JSON.stringify(value)]);
    await post([JSON.stringify(value)], true);
    expect(parsed).toEqual([value, value]);
  });
});
