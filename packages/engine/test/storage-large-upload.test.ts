import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { spawnEngine, type EngineProcess } from "./support/engine-process";
import { filesIn, storageDirs } from "./storage-support/storage-helpers";

/**
 * Uploads of any size through an upload URL (issue 12.3): the engine streams
 * the body to disk and hashes it on the way, so a 200 MiB upload leaves the
 * process's memory where it was; the file is served back byte for byte. With
 * the default limit (1 GiB) an upload that declares more is answered 413
 * before its body is read, and a client that keeps sending gets that answer,
 * not a reset.
 */

const APP = path.join(__dirname, "fixtures/files/convex");
const MiB = 1024 * 1024;
const SIZE = 200 * MiB;
const CHUNK = 1 * MiB;
const fn = <K extends "query" | "mutation">(name: string) => makeFunctionReference<K>(name);

/** Chunk `i` of the deterministic test file (each chunk differs, so a misplaced chunk changes the hash). */
function chunkAt(i: number): Uint8Array {
  const out = Buffer.alloc(CHUNK, i & 0xff);
  out.writeUInt32BE(i, 0);
  return out;
}

/** The body as a stream made on demand: the client holds one chunk at a time. */
function bodyStream(hash: ReturnType<typeof createHash>): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i === SIZE / CHUNK) return controller.close();
      const chunk = chunkAt(i++);
      hash.update(chunk);
      controller.enqueue(chunk);
    },
  });
}

/** The engine process's resident memory (VmRSS) and its peak so far (VmHWM), from /proc. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)![1]) * 1024;
  return { rss: kib("VmRSS"), peak: kib("VmHWM") };
}

describe("large uploads", () => {
  let engine: EngineProcess;
  let dataDir: string;
  let client: ConvexHttpClient;
  const uploadUrl = () => client.mutation(fn<"mutation">("files:generateUploadUrl"), {}) as Promise<string>;

  beforeAll(async () => {
    // Its own process, so its memory is measured alone; the default limit (no --max-upload-size).
    dataDir = mkdtempSync(path.join(tmpdir(), "large-upload-"));
    engine = await spawnEngine({ appDir: APP, dataDir });
    client = new ConvexHttpClient(engine.cloudUrl, { logger: false });
  });
  afterAll(async () => {
    await engine?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("a 200 MiB upload streams to disk with flat memory, and the bytes served back are identical", async () => {
    const url = await uploadUrl();
    const sent = createHash("sha256");
    // Warm up the upload path so first-use allocations do not count as growth.
    expect((await fetch(await uploadUrl(), { method: "POST", body: Buffer.alloc(CHUNK) })).status).toBe(200);
    const pid = engine.child.pid!;
    const before = memoryOf(pid);
    let sampledPeak = before.rss;
    const sampler = setInterval(() => (sampledPeak = Math.max(sampledPeak, memoryOf(pid).rss)), 20);
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/octet-stream" },
      body: bodyStream(sent),
      duplex: "half",
    } as RequestInit);
    clearInterval(sampler);
    const after = memoryOf(pid);
    const growth = Math.max(sampledPeak, after.peak > before.peak ? after.peak : 0) - before.rss;
    expect(response.status).toBe(200);
    const { storageId } = (await response.json()) as { storageId: string };
    const digest = sent.digest();
    // Memory: the body (200 MiB) never sits in the engine's heap; a buffering engine would grow by its size.
    expect(growth, `engine RSS grew by ${(growth / MiB).toFixed(1)} MiB during a 200 MiB upload`).toBeLessThan(48 * MiB);

    const described = (await client.query(fn<"query">("files:describe"), { storageId })) as {
      doc: { size: number; sha256: string };
      url: string;
    };
    expect(described.doc.size).toBe(SIZE);
    expect(described.doc.sha256).toBe(digest.toString("base64"));

    // Served back in full: same length, same hash, streamed.
    const served = await fetch(described.url);
    expect(served.status).toBe(200);
    expect(Number(served.headers.get("content-length"))).toBe(SIZE);
    const received = createHash("sha256");
    let length = 0;
    for await (const part of served.body as unknown as AsyncIterable<Uint8Array>) {
      received.update(part);
      length += part.byteLength;
    }
    expect(length).toBe(SIZE);
    expect(received.digest().equals(digest)).toBe(true);
  }, 120_000);

  test("an upload declaring more than the default 1 GiB is answered 413 before its body is read, without a reset", async () => {
    const url = new URL(await uploadUrl());
    const tmpBefore = filesIn(storageDirs(dataDir).tmp);
    // A client that writes its body regardless of an early answer (as node:http
    // and curl do) while declaring 2 GiB: it must read the 413 and finish
    // writing what it meant to (160 MiB here) without EPIPE or a reset.
    const outcome = await new Promise<{ status: number; body: string; error: string | null }>((resolve) => {
      let error: string | null = null;
      let answer: { status: number; body: string } | null = null;
      let written = false;
      const settle = () => {
        if (error !== null) resolve({ status: answer?.status ?? 0, body: answer?.body ?? "", error });
        else if (answer !== null && written) resolve({ ...answer, error });
      };
      const req = request(
        { host: url.hostname, port: url.port, method: "POST", path: url.pathname + url.search, headers: { "Content-Length": 2 * 1024 * MiB } },
        (res) => {
          let body = "";
          res.on("data", (d: Buffer) => (body += d.toString()));
          res.on("end", () => {
            answer = { status: res.statusCode ?? 0, body };
            settle();
          });
        },
      );
      req.on("error", (e) => {
        error = (e as NodeJS.ErrnoException).code ?? e.message;
        settle();
      });
      req.write(Buffer.alloc(160 * MiB), () => {
        written = true;
        req.destroy();
        settle();
      });
    });
    expect(outcome.error).toBeNull();
    expect(outcome.status).toBe(413);
    expect(JSON.parse(outcome.body)).toMatchObject({ code: "PayloadTooLarge" });
    expect(outcome.body).toMatch(/limit is 1073741824 bytes/);
    expect(filesIn(storageDirs(dataDir).tmp)).toEqual(tmpBefore);
    // The URL was not used up by the refusal.
    const ok = await fetch(url, { method: "POST", body: "small" });
    expect(ok.status).toBe(200);
  }, 60_000);
});
