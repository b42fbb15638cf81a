import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { encodeDocumentId } from "../src/values/document-id";
import { startTestEngine, type TestEngine } from "./support/test-engine";
import { rawRequest, storageDirs } from "./storage-support/storage-helpers";

/**
 * Serve URLs crafted to reach outside the storage folder. A file URL's last
 * segment must decode to an id of `_storage`; nothing else becomes a path, so
 * every one of these is a 404 (or a 405) and never the bytes of a file next
 * to the stored ones (the SQLite database, the upload-token file, a planted
 * file beside `blobs/`).
 */

const APP = path.join(__dirname, "fixtures/files/convex");
const fn = <K extends "query" | "mutation" | "action">(name: string) => makeFunctionReference<K>(name);

describe("storage serve URL attacks", () => {
  let running: TestEngine;
  let storageId: string;
  let jobId: string;

  beforeAll(async () => {
    running = await startTestEngine({ appDir: APP });
    const client = new ConvexHttpClient(running.engine.cloudUrl, { logger: false });
    const url = (await client.mutation(fn<"mutation">("files:generateUploadUrl"), {})) as string;
    const response = await fetch(url, { method: "POST", headers: { "Content-Type": "image/png" }, body: "legit" });
    storageId = ((await response.json()) as { storageId: string }).storageId;
    jobId = (await client.mutation(fn<"mutation">("files:scheduleNoop"), { ms: 1000 })) as string;
    // A secret one level above the stored files, where a `../` would land.
    writeFileSync(path.join(storageDirs(running.dataDir).blobs, "..", "secret.txt"), "TOP SECRET");
  });
  afterAll(async () => {
    await running?.close();
  });

  test("the legitimate URL serves its file", async () => {
    const ok = await rawRequest(running.engine.cloudUrl, { path: `/api/storage/${storageId}` });
    expect(ok.status).toBe(200);
    expect(ok.body.toString()).toBe("legit");
  });

  const crafted = (id: () => string, job: () => string): [string, () => string][] => [
    ["dot segments", () => "/api/storage/../secret.txt"],
    ["encoded dot segments", () => "/api/storage/..%2Fsecret.txt"],
    ["double-encoded", () => "/api/storage/%252e%252e%252fsecret.txt"],
    ["encoded dots and slash", () => "/api/storage/%2e%2e%2f%2e%2e%2fdb.sqlite3"],
    ["backslashes", () => "/api/storage/..%5C..%5Cdb.sqlite3"],
    ["the token file by name", () => "/api/storage/upload-tokens.sqlite3"],
    ["a real id followed by a traversal", () => `/api/storage/${id()}%2F..%2F..%2Fsecret.txt`],
    ["a real id with a NUL byte", () => `/api/storage/${id()}%00`],
    ["a real id upper-cased", () => `/api/storage/${id().toUpperCase()}`],
    ["an id of another table", () => `/api/storage/${job()}`],
    ["a well-formed but unknown storage id", () => `/api/storage/${encodeDocumentId(540, new Uint8Array(16).fill(9))}`],
    ["an absolute path", () => "/api/storage//etc/passwd"],
    ["a path below an id", () => `/api/storage/${id()}/secret.txt`],
  ];

  test.each(crafted(() => storageId, () => jobId))("%s → not found, no foreign bytes", async (_name, makePath) => {
    const response = await rawRequest(running.engine.cloudUrl, { path: makePath() });
    expect([404, 405]).toContain(response.status);
    const text = response.body.toString("latin1");
    expect(text).not.toContain("TOP SECRET");
    expect(text).not.toContain("SQLite format 3");
    expect(text).not.toContain("root:");
  });
});
