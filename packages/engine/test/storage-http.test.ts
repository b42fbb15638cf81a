import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { request } from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestEngine, type TestEngine } from "./support/test-engine";
import { drainScheduler, eventually } from "./scheduler-support/scheduler-helpers";
import { filesIn, rawRequest, storageDirs } from "./storage-support/storage-helpers";

/**
 * File storage end to end on a bare fixture app: upload URLs from
 * `generateUploadUrl`, raw-byte uploads as `fetch` and Expo send them, files
 * served at `storage.getUrl` with ranges and cache headers, deletion after
 * commit, `storage.store/get` in actions, and every refusal leaving nothing
 * behind.
 */

const APP = path.join(__dirname, "fixtures/files/convex");
const LIMIT = 64 * 1024;
const fn = <K extends "query" | "mutation" | "action">(name: string) => makeFunctionReference<K>(name);

type Doc = { _id: string; _creationTime: number; sha256: string; size: number; contentType: string | null };

/** Deterministic bytes (no RNG: a failure reproduces). */
function bytes(n: number, seed = 1): Buffer {
  const out = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i += 1) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

describe("file storage over HTTP", () => {
  let running: TestEngine;
  let client: ConvexHttpClient;
  let dirs: { blobs: string; tmp: string };

  const uploadUrl = () => client.mutation(fn<"mutation">("files:generateUploadUrl"), {}) as Promise<string>;
  const rows = () => client.query(fn<"query">("files:list"), {}) as Promise<Doc[]>;
  const describeFile = (storageId: string) =>
    client.query(fn<"query">("files:describe"), { storageId }) as Promise<{
      doc: Doc | null;
      metadata: { storageId: string; sha256: string; size: number; contentType: string | null } | null;
      url: string | null;
    }>;
  const post = (url: string, body: Buffer | Uint8Array, headers: Record<string, string> = {}) =>
    fetch(url, { method: "POST", headers, body: body as unknown as BodyInit });
  async function upload(body: Buffer, contentType?: string): Promise<string> {
    const response = await post(await uploadUrl(), body, contentType === undefined ? {} : { "Content-Type": contentType });
    expect(response.status).toBe(200);
    return ((await response.json()) as { storageId: string }).storageId;
  }
  /** Nothing of a refused upload may remain: same rows, same files, no temp file. */
  async function expectNothingWritten(rowsBefore: Doc[], blobsBefore: string[]): Promise<void> {
    expect(await rows()).toEqual(rowsBefore);
    expect(filesIn(dirs.blobs)).toEqual(blobsBefore);
    expect(filesIn(dirs.tmp)).toEqual([]);
  }

  beforeAll(async () => {
    running = await startTestEngine({ appDir: APP, storage: { maxUploadBytes: LIMIT } });
    client = new ConvexHttpClient(running.engine.cloudUrl, { logger: false });
    dirs = storageDirs(running.dataDir);
  });
  afterAll(async () => {
    await running?.close();
  });

  test("storage.getUrl answers the same in a query (at its snapshot) and in an action: a stored file's URL, null once deleted, a refusal the function can catch for what is no storage id", async () => {
    const storageId = await upload(bytes(100, 7), "text/plain");
    const asQuery = (id: string) => client.query(fn<"query">("files:urlOf"), { id });
    const asAction = (id: string) => client.action(fn<"action">("files:urlOfFromAction"), { id });
    const fileUrl = `${running.engine.cloudUrl}/api/storage/${storageId}`;
    expect(await asQuery(storageId)).toBe(fileUrl);
    expect(await asAction(storageId)).toBe(fileUrl);
    await client.mutation(fn<"mutation">("files:remove"), { storageId });
    expect(await asQuery(storageId)).toBeNull();
    expect(await asAction(storageId)).toBeNull();
    for (const refused of [await asQuery("not-an-id"), await asAction("not-an-id")]) {
      expect(refused).toEqual({ refused: expect.stringContaining("Invalid storage id") });
    }
  });

  test("an upload stores its bytes, sha256, size and Content-Type, and its URL serves them back", async () => {
    const body = bytes(40_000);
    const url = await uploadUrl();
    expect(url).toMatch(new RegExp(`^${running.engine.cloudUrl}/api/storage/upload\\?token=[A-Za-z0-9_-]{43}$`));
    const response = await post(url, body, { "Content-Type": "image/png" });
    expect(response.status).toBe(200);
    const { storageId } = (await response.json()) as { storageId: string };

    const sha256 = createHash("sha256").update(body).digest();
    const { doc, metadata, url: fileUrl } = await describeFile(storageId);
    expect(doc).toEqual({ _id: storageId, _creationTime: expect.any(Number), sha256: sha256.toString("base64"), size: 40_000, contentType: "image/png" });
    expect(metadata).toEqual({ storageId, sha256: sha256.toString("hex"), size: 40_000, contentType: "image/png" });
    expect(fileUrl).toBe(`${running.engine.cloudUrl}/api/storage/${storageId}`);

    const served = await fetch(fileUrl!);
    expect(served.status).toBe(200);
    expect(Object.fromEntries(["content-type", "content-length", "cache-control", "accept-ranges", "etag", "digest"].map((h) => [h, served.headers.get(h)]))).toEqual({
      "content-type": "image/png",
      "content-length": "40000",
      "cache-control": "private, max-age=2592000",
      "accept-ranges": "bytes",
      etag: `"${sha256.toString("base64")}"`,
      digest: `sha-256=${sha256.toString("base64")}`,
    });
    expect(Buffer.from(await served.arrayBuffer()).equals(body)).toBe(true);
    // On disk: one file named by the id, holding the same bytes; no temp file left.
    expect(readFileSync(path.join(dirs.blobs, storageId)).equals(body)).toBe(true);
    expect(filesIn(dirs.tmp)).toEqual([]);
  });

  test("without a Content-Type the row says null and the file is served without one", async () => {
    const url = await uploadUrl();
    const response = await rawRequest(url, { method: "POST", path: new URL(url).pathname + new URL(url).search, body: Buffer.from("raw") });
    expect(response.status).toBe(200);
    const { storageId } = JSON.parse(response.body.toString()) as { storageId: string };
    expect((await describeFile(storageId)).doc?.contentType).toBeNull();
    const served = await rawRequest(running.engine.cloudUrl, { path: `/api/storage/${storageId}` });
    expect(served.status).toBe(200);
    expect(served.headers["content-type"]).toBeUndefined();
    expect(served.body.toString()).toBe("raw");
  });

  test("single ranges get 206, impossible ones 416; HEAD and If-None-Match work", async () => {
    const body = bytes(1000, 7);
    const storageId = await upload(body, "image/jpeg");
    const fileUrl = `${running.engine.cloudUrl}/api/storage/${storageId}`;
    const get = (headers: Record<string, string>, method = "GET") => fetch(fileUrl, { headers, method });

    const head = await get({ Range: "bytes=0-9" });
    expect(head.status).toBe(206);
    expect(head.headers.get("content-range")).toBe("bytes 0-9/1000");
    expect(head.headers.get("content-length")).toBe("10");
    expect(Buffer.from(await head.arrayBuffer()).equals(body.subarray(0, 10))).toBe(true);

    const tail = await get({ Range: "bytes=-5" });
    expect(tail.status).toBe(206);
    expect(Buffer.from(await tail.arrayBuffer()).equals(body.subarray(995))).toBe(true);
    const open = await get({ Range: "bytes=990-" });
    expect(open.headers.get("content-range")).toBe("bytes 990-999/1000");
    expect(Buffer.from(await open.arrayBuffer()).equals(body.subarray(990))).toBe(true);

    const beyond = await get({ Range: "bytes=1000-" });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get("content-range")).toBe("bytes */1000");
    // Several ranges are not served piecewise: the whole file comes back.
    const several = await get({ Range: "bytes=0-1,5-6" });
    expect(several.status).toBe(200);
    expect((await several.arrayBuffer()).byteLength).toBe(1000);

    const headOnly = await get({}, "HEAD");
    expect(headOnly.status).toBe(200);
    expect(headOnly.headers.get("content-length")).toBe("1000");
    const etag = headOnly.headers.get("etag")!;
    expect((await get({ "If-None-Match": etag })).status).toBe(304);
  });

  test("a Digest header is checked: a wrong one is refused, nothing is kept and the URL stays usable", async () => {
    const body = bytes(3000, 3);
    const digest = createHash("sha256").update(body).digest("base64");
    const [rowsBefore, blobsBefore] = [await rows(), filesIn(dirs.blobs)];
    const url = await uploadUrl();
    const wrong = await post(url, body, { "Content-Type": "image/png", Digest: `sha-256=${createHash("sha256").update("other").digest("base64")}` });
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toMatchObject({ code: "DigestMismatch" });
    await expectNothingWritten(rowsBefore, blobsBefore);

    const right = await post(url, body, { "Content-Type": "image/png", Digest: `md5=abc, sha-256=${digest}` });
    expect(right.status).toBe(200);
  });

  test("an upload URL works once; a second upload with it is refused and writes nothing", async () => {
    const url = await uploadUrl();
    expect((await post(url, bytes(100), { "Content-Type": "image/png" })).status).toBe(200);
    const [rowsBefore, blobsBefore] = [await rows(), filesIn(dirs.blobs)];
    const again = await post(url, bytes(100, 2), { "Content-Type": "image/png" });
    expect(again.status).toBe(400);
    expect(await again.json()).toEqual({ code: "UploadTokenInvalid", message: expect.stringMatching(/invalid, expired or already used/) });
    await expectNothingWritten(rowsBefore, blobsBefore);
  });

  test("two uploads racing on one URL: the second is refused at once, the first completes", async () => {
    const url = new URL(await uploadUrl());
    const [rowsBefore] = [await rows()];
    // Upload A sends its headers and a first chunk, then waits.
    let answerA!: (status: number) => void;
    const statusA = new Promise<number>((resolve) => (answerA = resolve));
    const a = request(
      { host: url.hostname, port: url.port, method: "POST", path: url.pathname + url.search, headers: { "Content-Type": "image/png" } },
      (res) => {
        res.resume();
        answerA(res.statusCode ?? 0);
      },
    );
    a.write(bytes(1000));
    // A holds the token once its temp file exists.
    await eventually(async () => (filesIn(dirs.tmp).length === 1 ? true : undefined), "upload A to start");
    const b = await post(url.href, bytes(10), { "Content-Type": "image/png" });
    expect(b.status).toBe(400);
    a.end(bytes(1000, 9));
    expect(await statusA).toBe(200);
    expect((await rows()).length).toBe(rowsBefore.length + 1);
  });

  test("tokens that are missing, malformed or unknown are refused", async () => {
    const [rowsBefore, blobsBefore] = [await rows(), filesIn(dirs.blobs)];
    const base = `${running.engine.cloudUrl}/api/storage/upload`;
    for (const url of [base, `${base}?token=`, `${base}?token=abc`, `${base}?token=${"A".repeat(43)}`, `${base}?token=${"%2F".repeat(43)}`]) {
      const response = await post(url, bytes(10), { "Content-Type": "image/png" });
      expect(response.status, url).toBe(400);
      expect(((await response.json()) as { code: string }).code).toBe("UploadTokenInvalid");
    }
    expect((await fetch(`${base}?token=x`)).status).toBe(405);
    await expectNothingWritten(rowsBefore, blobsBefore);
  });

  test("an upload URL expires after an hour (of deployment time)", async () => {
    const url = await uploadUrl();
    await client.mutation(fn<"mutation">("files:scheduleNoop"), { ms: 61 * 60 * 1000 });
    await drainScheduler(running.engine);
    const [rowsBefore, blobsBefore] = [await rows(), filesIn(dirs.blobs)];
    const late = await post(url, bytes(10), { "Content-Type": "image/png" });
    expect(late.status).toBe(400);
    await expectNothingWritten(rowsBefore, blobsBefore);
    // A fresh URL works at the new time.
    await upload(bytes(10), "image/png");
  });

  test("an oversized upload with a Content-Length is refused before reading: nothing written, URL still usable", async () => {
    const url = await uploadUrl();
    const [rowsBefore, blobsBefore] = [await rows(), filesIn(dirs.blobs)];
    const big = await post(url, bytes(LIMIT + 1), { "Content-Type": "image/png" });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { code: string }).code).toBe("PayloadTooLarge");
    await expectNothingWritten(rowsBefore, blobsBefore);
    expect((await post(url, bytes(LIMIT), { "Content-Type": "image/png" })).status).toBe(200);
  });

  test("an oversized upload without a Content-Length is cut off while streaming: no temp file is left", async () => {
    const url = new URL(await uploadUrl());
    const [rowsBefore, blobsBefore] = [await rows(), filesIn(dirs.blobs)];
    const chunks = Array.from({ length: 5 }, (_, i) => bytes(LIMIT / 4, i + 20));
    const response = await rawRequest(url.href, { method: "POST", path: url.pathname + url.search, headers: { "Content-Type": "image/png" }, chunks });
    expect(response.status).toBe(413);
    await expectNothingWritten(rowsBefore, blobsBefore);
  });

  test("a chunked upload that keeps sending past the limit gets its 413, not a reset, and leaves nothing", async () => {
    const url = new URL(await uploadUrl());
    const [rowsBefore, blobsBefore] = [await rows(), filesIn(dirs.blobs)];
    // 96 MiB chunked against a 64 KiB limit, written in full as node:http and curl do.
    const outcome = await new Promise<{ status: number; body: string; error: string | null }>((resolve) => {
      let answer: { status: number; body: string } | null = null;
      let written = false;
      const settle = (error: string | null) => {
        if (error !== null) resolve({ status: answer?.status ?? 0, body: answer?.body ?? "", error });
        else if (answer !== null && written) resolve({ ...answer, error: null });
      };
      const req = request({ host: url.hostname, port: url.port, method: "POST", path: url.pathname + url.search }, (res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString()));
        res.on("end", () => {
          answer = { status: res.statusCode ?? 0, body };
          settle(null);
        });
      });
      req.on("error", (e) => settle((e as NodeJS.ErrnoException).code ?? e.message));
      const chunk = bytes(1024 * 1024, 3);
      for (let i = 0; i < 96; i++) req.write(chunk);
      req.end(() => {
        written = true;
        settle(null);
      });
    });
    expect(outcome.error).toBeNull();
    expect(outcome.status).toBe(413);
    expect(JSON.parse(outcome.body)).toMatchObject({ code: "PayloadTooLarge" });
    await expectNothingWritten(rowsBefore, blobsBefore);
  });

  test("storage.delete removes the row in the mutation and the file after commit; a failed mutation keeps both", async () => {
    const body = bytes(500, 5);
    const storageId = await upload(body, "image/gif");
    const fileUrl = (await describeFile(storageId)).url!;

    await expect(client.mutation(fn<"mutation">("files:removeThenFail"), { storageId })).rejects.toThrow(/changed my mind/);
    expect((await describeFile(storageId)).doc).not.toBeNull();
    expect(filesIn(dirs.blobs)).toContain(storageId);
    expect((await fetch(fileUrl)).status).toBe(200);

    await client.mutation(fn<"mutation">("files:remove"), { storageId });
    expect(await describeFile(storageId)).toEqual({ doc: null, metadata: null, url: null });
    expect(filesIn(dirs.blobs)).not.toContain(storageId);
    const gone = await fetch(fileUrl);
    expect(gone.status).toBe(404);
    expect(((await gone.json()) as { code: string }).code).toBe("StorageFileNotFound");
    await expect(client.mutation(fn<"mutation">("files:remove"), { storageId })).rejects.toThrow(/not found/);
  });

  test("actions: storage.store (with its sha256 check), storage.get, storage.delete, generateUploadUrl", async () => {
    const storageId = (await client.action(fn<"action">("files:store"), { text: "hello", type: "text/plain" })) as string;
    expect(await client.action(fn<"action">("files:read"), { storageId })).toEqual({ text: "hello", type: "text/plain" });
    expect((await describeFile(storageId)).doc).toMatchObject({ size: 5, contentType: "text/plain" });

    const sha256 = createHash("sha256").update("checked").digest("base64");
    const checked = (await client.action(fn<"action">("files:store"), { text: "checked", sha256 })) as string;
    expect((await describeFile(checked)).doc).toMatchObject({ sha256, contentType: null });
    const countBefore = (await rows()).length;
    await expect(client.action(fn<"action">("files:store"), { text: "tampered", sha256 })).rejects.toThrow(/sha256/);
    expect((await rows()).length).toBe(countBefore);
    expect(filesIn(dirs.tmp)).toEqual([]);

    await client.action(fn<"action">("files:removeFromAction"), { storageId });
    expect(await client.action(fn<"action">("files:read"), { storageId })).toBeNull();
    expect(filesIn(dirs.blobs)).not.toContain(storageId);

    const url = (await client.action(fn<"action">("files:generateUploadUrlFromAction"), {})) as string;
    expect((await post(url, bytes(10), { "Content-Type": "image/png" })).status).toBe(200);
  });
});
