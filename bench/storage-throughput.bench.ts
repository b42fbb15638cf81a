/**
 * File storage benchmark (issue #6): a 2 MiB file uploaded through the URL
 * `storage.generateUploadUrl` returns (raw bytes, streamed to disk, hashed,
 * fsynced, `_storage` row committed) and served back from its
 * `storage.getUrl` URL,
 * next to baselines on the same bytes in the same run: a plain file copy,
 * a copy that also fsyncs (what an upload must do to be durable), and the
 * file streamed by a bare `node:http` server over the same loopback.
 *
 * Uploads run one at a time (each also needs a mutation for its URL, not
 * timed); serving is measured one at a time and with 8 requests in flight.
 * The app is the bare file-storage fixture: the Instagram app would process
 * every photo (`bench/photo-processing.bench.ts` measures that), so its
 * files would not stay the bytes uploaded.
 */
import { ConvexHttpClient } from "convex/browser";
import { copyFileSync, createReadStream, mkdtempSync, openSync, fsyncSync, closeSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { makeFunctionReference } from "convex/server";
import { createEngine } from "../packages/engine/src/engine";
import { seededRandom } from "../packages/engine/test/support/seeded-random";
import { quietLogger } from "../packages/engine/test/support/test-engine";

const SIZE = 2 * 1024 * 1024;
const UPLOADS = 40;
const SERVES = 100;
const COPIES = 40;
const CONCURRENCY = 8;
const quiet = quietLogger();
const FILES_APP = path.resolve("packages/engine/test/fixtures/files/convex");
const generateUploadUrl = makeFunctionReference<"mutation", Record<string, never>, string>("files:generateUploadUrl");
const describeFile = makeFunctionReference<"query", { storageId: string }, { url: string | null }>("files:describe");

/** Fixed-seed bytes behind a PNG signature: the same image every run. */
function image(): Buffer {
  const random = seededRandom(6);
  const bytes = Buffer.alloc(SIZE);
  for (let i = 0; i < SIZE; i += 4) bytes.writeUInt32LE(Math.floor(random() * 2 ** 32), i);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(bytes);
  return bytes;
}

/** Runs `op` `n` times one after another; returns per-op ms. */
async function timed(n: number, op: (i: number) => Promise<void> | void): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < n; i += 1) {
    const start = performance.now();
    await op(i);
    samples.push(performance.now() - start);
  }
  return samples;
}

/** Runs `n` ops with `width` in flight; returns the wall time in ms. */
async function concurrent(n: number, width: number, op: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) await op(next++);
    }),
  );
  return performance.now() - start;
}

/** A table row: throughput over the wall time, and latency percentiles when each op was timed alone. */
function row(name: string, samples: number[], wallMs?: number) {
  const sorted = [...samples].sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!.toFixed(2);
  const total = wallMs ?? samples.reduce((a, b) => a + b, 0);
  return {
    operation: name,
    "MB/s": Math.round((SIZE * samples.length) / 1e6 / (total / 1000)),
    "p50 ms": wallMs === undefined ? pct(0.5) : "-",
    "p99 ms": wallMs === undefined ? pct(0.99) : "-",
    n: samples.length,
  };
}

async function main(): Promise<void> {
  const bytes = image();
  const dataDir = mkdtempSync(path.join(tmpdir(), "bench-storage-"));
  const scratch = mkdtempSync(path.join(tmpdir(), "bench-storage-copy-"));
  const engine = await createEngine({ appDir: FILES_APP, dataDir, port: 0, sitePort: 0, logger: quiet });
  const plain = createServer((_req, res) => {
    res.writeHead(200, { "Content-Type": "image/png", "Content-Length": SIZE });
    createReadStream(source).pipe(res);
  });
  const source = path.join(scratch, "source.png");
  writeFileSync(source, bytes);
  try {
    const client = new ConvexHttpClient(engine.cloudUrl, { logger: false });

    // Upload: only the POST is timed.
    const imageUrls: string[] = [];
    const uploads: number[] = [];
    for (let i = 0; i < UPLOADS; i += 1) {
      const url = await client.mutation(generateUploadUrl, {});
      const start = performance.now();
      const response = await fetch(url, { method: "POST", headers: { "Content-Type": "image/png" }, body: bytes as unknown as BodyInit });
      const { storageId } = (await response.json()) as { storageId: string };
      uploads.push(performance.now() - start);
      imageUrls.push((await client.query(describeFile, { storageId })).url!);
    }
    const first = Buffer.from(await (await fetch(imageUrls[0]!)).arrayBuffer());
    if (!first.equals(bytes)) throw new Error("served bytes differ from the uploaded ones");

    const fetchAll = async (url: string) => {
      const body = await (await fetch(url)).arrayBuffer();
      if (body.byteLength !== SIZE) throw new Error(`short read: ${body.byteLength}`);
    };
    const serves = await timed(SERVES, (i) => fetchAll(imageUrls[i % imageUrls.length]!));
    const serveWall = await concurrent(SERVES, CONCURRENCY, (i) => fetchAll(imageUrls[i % imageUrls.length]!));

    await new Promise<void>((resolve) => plain.listen(0, "127.0.0.1", resolve));
    const plainUrl = `http://127.0.0.1:${(plain.address() as AddressInfo).port}/`;
    const plainServes = await timed(SERVES, () => fetchAll(plainUrl));

    const copies = await timed(COPIES, (i) => copyFileSync(source, path.join(scratch, `copy-${i}.png`)));
    const syncedCopies = await timed(COPIES, (i) => {
      const target = path.join(scratch, `synced-${i}.png`);
      writeFileSync(target, readFileSync(source));
      const fd = openSync(target, "r");
      fsyncSync(fd);
      closeSync(fd);
    });

    console.log(`\n2 MiB image (${SIZE} bytes); MB = 10^6 bytes; one request at a time unless noted`);
    console.table([
      row("upload: POST to generateUploadUrl's URL", uploads),
      row("serve: GET storage.getUrl's URL", serves),
      row(`serve: GET storage.getUrl's URL, ${CONCURRENCY} in flight`, serves, serveWall),
      row("baseline: node:http streaming the file", plainServes),
      row("baseline: plain file copy (copyFile)", copies),
      row("baseline: file copy + fsync", syncedCopies),
    ]);
  } finally {
    plain.close();
    await engine.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
