import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { strToU8, unzipSync, zipSync } from "fflate";
import { jsonToConvex, type JSONValue, type Value } from "convex/values";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { encodeDocumentId as encodeId } from "../src/values/document-id";
import { spawnEngine, type EngineProcess } from "./support/engine-process";
import { startTestEngine, type TestEngine } from "./support/test-engine";

const APP = fileURLToPath(new URL("fixtures/values-app/convex", import.meta.url));
const BIN = fileURLToPath(new URL("../bin/convex-local.mjs", import.meta.url));
const cli = promisify(execFile);

/** Export and import in the ZIP layout of `npx convex export` (convex-interface.md §8.1). */
describe("snapshot export and import", () => {
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(path.join(tmpdir(), "snapshot-"));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  /** Values of every type, including the ones JSON cannot tell apart. */
  const VALUES: Value[] = [
    null,
    true,
    "text with \u0000 and 😀",
    0,
    -0,
    1.5,
    3,
    1e300,
    Number.NaN,
    Number.NEGATIVE_INFINITY,
    3n,
    -(2n ** 63n),
    new Uint8Array([0, 1, 254, 255]).buffer,
    [1, 2n, "x", [null]],
    { nested: { int: 7n, float: 7, bytes: new Uint8Array([9]).buffer } },
  ];

  test("round trip: export with files, import into an empty data folder, every document and file equal", async () => {
    const source = await startTestEngine({ appDir: APP });
    const target = await startTestEngine({ appDir: APP });
    try {
      // Data: owners, things holding every value type, and stored files.
      const storageIds: string[] = [];
      for (let i = 0; i < 3; i++) {
        const url = await uploadUrl(source);
        const response = await fetch(url, { method: "POST", headers: { "Content-Type": i === 2 ? "application/octet-stream" : "image/png" }, body: new Uint8Array([i, 1, 2, 3, 200 + i]) });
        storageIds.push(((await response.json()) as { storageId: string }).storageId);
      }
      await source.engine.app.runtime.transact(() => {
        const owner = source.engine.store.insert("owners", { name: "ada" });
        VALUES.forEach((value, i) =>
          source.engine.store.insert("things", { owner, value, ...(i < storageIds.length ? { photo: storageIds[i]! } : {}) }),
        );
      });
      const zipFile = path.join(work, "round-trip.zip");
      const exported = await fetch(`${source.engine.cloudUrl}/api/admin/export?includeStorage=true`, {
        method: "POST",
        headers: { Authorization: `Convex ${source.engine.adminKey}` },
      });
      expect(exported.status).toBe(200);
      expect(exported.headers.get("content-disposition")).toMatch(/^attachment; filename=snapshot_local_\d+\.zip$/);
      writeFileSync(zipFile, Buffer.from(await exported.arrayBuffer()));

      // The layout Convex's exporter writes.
      const entries = unzipSync(readFileSync(zipFile));
      const names = Object.keys(entries);
      expect(names.slice(0, 2)).toEqual(["README.md", "_tables/documents.jsonl"]);
      expect(names).toContain("things/generated_schema.jsonl");
      expect(Buffer.from(entries["things/generated_schema.jsonl"]!).toString()).toBe('"uniform"\n');
      expect(names).toContain(`_storage/${storageIds[0]}.png`);
      expect(names).toContain(`_storage/${storageIds[2]}`);
      const thingsText = Buffer.from(entries["things/documents.jsonl"]!).toString();
      expect(thingsText).toContain('"value":3.0'); // float64 3 keeps its decimal point
      expect(thingsText).toContain('"value":3}'); // int64 3n is a plain integer
      expect(thingsText).toContain('"value":-0.0');

      const imported = await fetch(`${target.engine.cloudUrl}/api/admin/import`, {
        method: "POST",
        headers: { Authorization: `Convex ${target.engine.adminKey}` },
        body: readFileSync(zipFile),
      });
      expect(imported.status, await imported.clone().text()).toBe(200);

      for (const table of ["owners", "things", "_storage"]) {
        expect(await documents(target, table), table).toEqual(await documents(source, table));
      }
      for (const id of storageIds) {
        const original = await fetch(`${source.engine.cloudUrl}/api/storage/${id}`);
        const copy = await fetch(`${target.engine.cloudUrl}/api/storage/${id}`);
        expect(copy.status).toBe(200);
        expect(Buffer.from(await copy.arrayBuffer())).toEqual(Buffer.from(await original.arrayBuffer()));
      }
      // The imported deployment keeps working: new documents get later creation times.
      await target.engine.app.runtime.transact(() => void target.engine.store.insert("owners", { name: "new" }));
      const owners = await documents(target, "owners");
      expect(owners.at(-1)!._creationTime as number).toBeGreaterThan(owners[0]!._creationTime as number);
    } finally {
      await source.close();
      await target.close();
    }
  });

  test("reads a ZIP built by hand to the documented layout", async () => {
    const target = await startTestEngine({ appDir: APP });
    try {
      const owner = "j570pc2nfafw9t8e6dc7v8p7xg8kdsw0"; // table 10001, from the spec's examples
      const file = "kg20pc2nfafw9t8e6dc7v8p7xg8kda2w"; // _storage (540)
      const thingId = idForTable(10002);
      const bytes = new Uint8Array([1, 2, 3, 4]);
      const sha = await crypto.subtle.digest("SHA-256", bytes);
      const zip = zipSync({
        "README.md": strToU8("hand made"),
        "_tables/documents.jsonl": strToU8('{"name":"owners","id":10001}\n{"name":"things","id":10002}\n'),
        "owners/documents.jsonl": strToU8(`{"_id":"${owner}","_creationTime":1735689600000.0,"name":"ada"}\n`),
        "owners/generated_schema.jsonl": strToU8('"uniform"\n'),
        "things/documents.jsonl": strToU8(
          `{"_id":"${thingId}","_creationTime":1735689600001.5,"owner":"${owner}","photo":"${file}","value":{"i":5,"f":5.0,"b":{"$bytes":"AQI="},"n":{"$float":"AAAAAAAA+H8="}}}\n`,
        ),
        "things/generated_schema.jsonl": strToU8('"uniform"\n'),
        "_storage/documents.jsonl": strToU8(
          `{"_id":"${file}","_creationTime":1735689599000.0,"sha256":"${Buffer.from(sha).toString("base64")}","size":4,"contentType":"image/png","internalId":"00000000-0000-4000-a000-000000000000"}\n`,
        ),
        [`_storage/${file}.png`]: bytes,
      });
      const response = await fetch(`${target.engine.cloudUrl}/api/admin/import`, {
        method: "POST",
        headers: { Authorization: `Convex ${target.engine.adminKey}` },
        body: zip,
      });
      expect(response.status, await response.clone().text()).toBe(200);
      expect(await response.json()).toEqual({ tables: [{ name: "owners", documents: 1 }, { name: "things", documents: 1 }], files: 1 });
      const [thing] = await documents(target, "things");
      expect(thing).toMatchObject({ _id: thingId, _creationTime: 1735689600001.5, owner, photo: file });
      const value = thing!.value as Record<string, Value>;
      expect(value.i).toBe(5n);
      expect(value.f).toBe(5);
      expect(new Uint8Array(value.b as ArrayBuffer)).toEqual(new Uint8Array([1, 2]));
      expect(Number.isNaN(value.n)).toBe(true);
      expect(target.engine.store.tableNumber("owners")).toBe(10001);
      const served = await fetch(`${target.engine.cloudUrl}/api/storage/${file}`);
      expect(new Uint8Array(await served.arrayBuffer())).toEqual(bytes);
    } finally {
      await target.close();
    }
  });

  test("an import is all or nothing, and refuses to mix into tables that have data unless told", async () => {
    const target = await startTestEngine({ appDir: APP });
    try {
      await target.engine.app.runtime.transact(() => void target.engine.store.insert("owners", { name: "existing" }));
      const goodZip = zipSync({
        "_tables/documents.jsonl": strToU8('{"name":"owners","id":10001}\n'),
        "owners/documents.jsonl": strToU8(`{"_id":"${idForTable(10001)}","_creationTime":1.0,"name":"imported"}\n`),
      });
      const post = (zip: Uint8Array, mode = "") =>
        fetch(`${target.engine.cloudUrl}/api/admin/import${mode}`, {
          method: "POST",
          headers: { Authorization: `Convex ${target.engine.adminKey}` },
          body: zip as unknown as BodyInit,
        });
      const refused = await post(goodZip);
      expect(refused.status).toBe(400);
      expect(await refused.text()).toMatch(/already has 1 documents.*--replace/);
      // A document that breaks the schema: nothing of the import lands.
      const badZip = zipSync({
        "_tables/documents.jsonl": strToU8('{"name":"owners","id":10001}\n'),
        "owners/documents.jsonl": strToU8(
          `{"_id":"${idForTable(10001)}","_creationTime":1.0,"name":"ok"}\n{"_id":"${idForTable(10001)}","_creationTime":2.0,"name":42}\n`,
        ),
      });
      expect((await post(badZip, "?mode=replace")).status).toBe(400);
      expect((await documents(target, "owners")).map((d) => d.name)).toEqual(["existing"]);
      expect((await post(strToU8("not a zip"), "?mode=replace")).status).toBe(400);
      const replaced = await post(goodZip, "?mode=replace");
      expect(replaced.status).toBe(200);
      expect((await documents(target, "owners")).map((d) => d.name)).toEqual(["imported"]);
    } finally {
      await target.close();
    }
  });

  test("the CLI exports from a running engine and imports into a stopped one's data folder", async () => {
    const sourceDir = path.join(work, "cli-source");
    const targetDir = path.join(work, "cli-target");
    let engine: EngineProcess | null = await spawnEngine({ appDir: APP, dataDir: sourceDir });
    try {
      await fetch(`${engine.cloudUrl}/api/admin/import?mode=append`, {
        method: "POST",
        headers: { Authorization: `Convex ${engine.adminKey}` },
        body: zipSync({
          "_tables/documents.jsonl": strToU8('{"name":"owners","id":10001}\n'),
          "owners/documents.jsonl": strToU8(`{"_id":"${idForTable(10001)}","_creationTime":5.0,"name":"cli"}\n`),
        }),
      });
      const zip = path.join(work, "cli.zip");
      const { stdout } = await cli(process.execPath, [BIN, "export", "--path", zip, "--data", sourceDir]);
      expect(stdout).toMatch(/exported to/);
      await engine.stop();
      engine = null;
      const imported = await cli(process.execPath, [BIN, "import", "--path", zip, "--data", targetDir]);
      expect(imported.stdout).toMatch(/imported 1 documents in \d+ tables/);
      engine = await spawnEngine({ appDir: APP, dataDir: targetDir });
      const response = await fetch(`${engine.cloudUrl}/api/admin/documents?table=owners`, {
        headers: { Authorization: `Convex ${engine.adminKey}` },
      });
      expect(((await response.json()) as { documents: { name: string }[] }).documents.map((d) => d.name)).toEqual(["cli"]);
    } finally {
      await engine?.stop();
    }
  }, 60_000);
});

async function uploadUrl(running: TestEngine): Promise<string> {
  // An upload URL as generateUploadUrl would hand out, without an app function for it.
  return `${running.engine.cloudUrl}/api/storage/upload?token=${encodeURIComponent(await running.engine.app.runtime.blobs!.issueUploadToken())}`;
}

async function documents(running: TestEngine, table: string): Promise<Record<string, Value>[]> {
  const response = await fetch(`${running.engine.cloudUrl}/api/admin/documents?table=${table}&limit=1000`, {
    headers: { Authorization: `Convex ${running.engine.adminKey}` },
  });
  const { documents } = (await response.json()) as { documents: JSONValue[] };
  return documents.map((d) => jsonToConvex(d) as Record<string, Value>);
}

let counter = 0;
/** A valid id of a table number, with a fresh internal id. */
function idForTable(tableNumber: number): string {
  counter += 1;
  const internal = new Uint8Array(16);
  internal[0] = counter;
  internal[15] = 7;
  return encodeId(tableNumber, internal);
}

