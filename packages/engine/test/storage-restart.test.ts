import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, expect, test } from "vitest";
import { encodeDocumentId } from "../src/values/document-id";
import { startTestEngine } from "./support/test-engine";
import { filesIn, storageDirs } from "./storage-support/storage-helpers";

/**
 * File storage across a restart on the same data folder: upload tokens keep
 * their state (a used one stays used, an unused one stays valid), stored
 * files stay, and what a crash can leave behind (a half-received upload, a
 * file whose row never committed) is removed at start.
 */

const APP = path.join(__dirname, "fixtures/files/convex");
const fn = <K extends "query" | "mutation" | "action">(name: string) => makeFunctionReference<K>(name);
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

test("a restart neither revives a used upload URL nor kills an unused one, keeps files, and removes crash leftovers", async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "storage-restart-"));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const dirs = storageDirs(dataDir);
  const post = (url: string, text: string) =>
    fetch(url, { method: "POST", headers: { "Content-Type": "image/png" }, body: text });

  const first = await startTestEngine({ appDir: APP, dataDir });
  const before = new ConvexHttpClient(first.engine.cloudUrl, { logger: false });
  const used = (await before.mutation(fn<"mutation">("files:generateUploadUrl"), {})) as string;
  const unused = (await before.mutation(fn<"mutation">("files:generateUploadUrl"), {})) as string;
  const kept = ((await (await post(used, "kept")).json()) as { storageId: string }).storageId;
  await first.close();

  // What a crash mid-upload or between placing a file and committing its row leaves behind.
  const orphan = encodeDocumentId(540, new Uint8Array(16).fill(7));
  writeFileSync(path.join(dirs.tmp, "0123abcd.upload"), "half an upload");
  writeFileSync(path.join(dirs.blobs, orphan), "no row owns me");
  writeFileSync(path.join(dirs.blobs, "stray.txt"), "not a storage id");

  const second = await startTestEngine({ appDir: APP, dataDir });
  cleanups.push(() => second.close());
  const after = new ConvexHttpClient(second.engine.cloudUrl, { logger: false });
  expect(filesIn(dirs.tmp)).toEqual([]);
  expect(filesIn(dirs.blobs)).toEqual([kept]);

  // Upload URLs carry the old port; the token is what matters, so send it to the new one.
  const onNewPort = (url: string) => `${second.engine.cloudUrl}${new URL(url).pathname}${new URL(url).search}`;
  expect((await post(onNewPort(used), "again")).status).toBe(400);
  const fresh = await post(onNewPort(unused), "fresh");
  expect(fresh.status).toBe(200);
  const { storageId } = (await fresh.json()) as { storageId: string };
  expect(new Set(filesIn(dirs.blobs))).toEqual(new Set([kept, storageId]));

  const served = await fetch(`${second.engine.cloudUrl}/api/storage/${kept}`);
  expect(await served.text()).toBe("kept");
  expect((await after.query(fn<"query">("files:list"), {})) as unknown[]).toHaveLength(2);
});
