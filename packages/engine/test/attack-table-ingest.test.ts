import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { strToU8, zipSync } from "fflate";
import { once } from "node:events";
import { createReadStream, createWriteStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { importFile } from "../src/snapshot/snapshot-import";
import { createDiskBlobStore } from "../src/storage/disk-blob-store";
import { createSqliteStore } from "../src/store/sqlite-store";
import { encodeDocumentId } from "../src/values/document-id";
import { spawnEngine, type EngineProcess } from "./support/engine-process";
import { writeZipFile } from "./support/zip-file";

/**
 * The attack table, imports and import uploads (issue 10.8): a hostile file
 * given to `import` is refused with a clear error, writes nothing, and leaves
 * the engine serving with its memory where it was. The engine runs as its own
 * process so its memory is measured alone (VmHWM: the peak since it started).
 */

const APP = fileURLToPath(new URL("fixtures/import-app/convex", import.meta.url));
const MiB = 1024 * 1024;
const listPeople = makeFunctionReference<"query">("people:list");

/** An answer read in full, and whether the client's request failed (EPIPE, reset) on the way. */
interface Outcome {
  status: number;
  body: string;
  error: string | null;
}

describe("attack table: imports", () => {
  let work: string;
  let engine: EngineProcess;
  let client: ConvexHttpClient;
  let peakBefore: number;

  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), "import-attacks-"));
    engine = await spawnEngine({ appDir: APP, dataDir: path.join(work, "data") });
    client = new ConvexHttpClient(engine.cloudUrl, { logger: false });
    const seeded = await postFile(writeFile("seed.jsonl", '{"name":"Resident"}\n'), { format: "jsonLines", table: "people" });
    expect(seeded.status, seeded.body).toBe(200);
    peakBefore = memoryOf(engine.child.pid!).peak;
  }, 60_000);
  afterAll(async () => {
    await engine?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  function writeFile(name: string, content: string | Uint8Array): string {
    const file = path.join(work, name);
    writeFileSync(file, content);
    return file;
  }

  /** POSTs a file to the admin import endpoint as a stream, the way the CLI does. */
  function postFile(file: string, params: Record<string, string>, headers: Record<string, string | number> = {}): Promise<Outcome> {
    const url = new URL(`${engine.cloudUrl}/api/admin/import?${new URLSearchParams(params)}`);
    return new Promise((resolve) => {
      let error: string | null = null;
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          method: "POST",
          path: url.pathname + url.search,
          headers: { Authorization: `Convex ${engine.adminKey}`, "Content-Length": statSync(file).size, ...headers },
        },
        (res) => {
          let body = "";
          res.on("data", (d: Buffer) => (body += d.toString()));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body, error }));
        },
      );
      req.on("error", (e) => {
        error = (e as NodeJS.ErrnoException).code ?? e.message;
        resolve({ status: 0, body: "", error });
      });
      createReadStream(file).pipe(req);
    });
  }

  /** Every refusal: a 400-class answer with the message, nothing written, the engine still answering. */
  async function refused(outcome: Outcome, status: number, message: RegExp): Promise<void> {
    expect(outcome.error).toBeNull();
    expect(outcome.status, outcome.body).toBe(status);
    expect((JSON.parse(outcome.body) as { message: string }).message).toMatch(message);
    const people = (await client.query(listPeople, {})) as { name: string }[];
    expect(people.map((p) => p.name)).toEqual(["Resident"]);
  }

  test("a 300 MB JSONL line is refused at 16 MiB, with memory flat", async () => {
    const file = path.join(work, "long-line.jsonl");
    await writeStreamed(file, ['{"name":"'], 300 * MiB, "a", ['"}\n']);
    await refused(await postFile(file, { format: "jsonLines", table: "people", mode: "replace" }), 400, /line 1 is longer than 16777216 bytes/);
  }, 60_000);

  test("a 300 MB line inside a ZIP (stored, not compressed) is refused the same way", async () => {
    const file = path.join(work, "long-line.zip");
    await writeZipFile(file, [
      { name: "_tables/documents.jsonl", chunks: () => [strToU8('{"name":"people","id":10001}\n')], method: "deflate" },
      { name: "people/documents.jsonl", chunks: () => repeat(300 * MiB, 0x61), method: "store" },
    ]);
    await refused(await postFile(file, { mode: "replace" }), 400, /people\/documents\.jsonl line 1 is longer than 16777216 bytes/);
  }, 60_000);

  test("a zip bomb (256 MiB of zeros in 0.25 MiB) is refused from its declared sizes, before inflating", async () => {
    const file = path.join(work, "bomb.zip");
    await writeZipFile(file, [
      { name: "_tables/documents.jsonl", chunks: () => [strToU8('{"name":"people","id":10001}\n')], method: "deflate" },
      { name: "people/documents.jsonl", chunks: () => repeat(256 * MiB, 0), method: "deflate" },
    ]);
    expect(statSync(file).size).toBeLessThan(MiB);
    await refused(await postFile(file, { mode: "replace" }), 400, /expands \d+-fold .* refused as a zip bomb/);
  }, 60_000);

  test("a zip bomb that lies about its size (declares 1,000 bytes, inflates to 64 MiB) is cut off at byte 1,001", async () => {
    const file = path.join(work, "liar.zip");
    await writeZipFile(file, [
      { name: "_tables/documents.jsonl", chunks: () => [strToU8('{"name":"people","id":10001}\n')], method: "deflate" },
      { name: "people/documents.jsonl", chunks: () => repeat(64 * MiB, 0x0a), method: "deflate", declaredSize: 1000 },
    ]);
    await refused(await postFile(file, { mode: "replace" }), 400, /lies about its size: too many bytes in the stream/);
  }, 60_000);

  test("JSON nested 100,000 levels deep is refused before parsing (no stack overflow)", async () => {
    const deep = `{"name":"x","v":${"[".repeat(100_000)}${"]".repeat(100_000)}}\n`;
    const jsonl = writeFile("deep.jsonl", deep);
    await refused(await postFile(jsonl, { format: "jsonLines", table: "people", mode: "replace" }), 400, /row 1 .*nested more than 80 levels/);
    const array = writeFile("deep.json", `[${deep}]`);
    await refused(await postFile(array, { format: "jsonArray", table: "people", mode: "replace" }), 400, /element 1 is nested more than 80 levels/);
  });

  test("system fields out of range: _creationTime far ahead, negative or an integer; an _id of another table", async () => {
    const storageId = encodeDocumentId(540, new Uint8Array(16).fill(3));
    const cases: [string, RegExp][] = [
      ['{"name":"x","_creationTime":1e300}', /row 2 .*_creationTime 1e\+300 .*more than a day ahead/],
      [`{"name":"x","_creationTime":${Date.now() + 3 * 86_400_000}}`, /more than a day ahead/],
      ['{"name":"x","_creationTime":-5}', /_creationTime must be a non-negative float64/],
      ['{"name":"x","_creationTime":{"$integer":"AQAAAAAAAAA="}}', /_creationTime must be a non-negative float64/],
      [`{"name":"x","_id":"${storageId}"}`, /_id .* cannot be imported into 'people' because its IDs have a different format/],
      ['{"name":"x","_id":"not-an-id"}', /invalid _id 'not-an-id'/],
    ];
    for (const [line, message] of cases) {
      const file = writeFile("fields.jsonl", `{"name":"fine"}\n${line}\n`);
      await refused(await postFile(file, { format: "jsonLines", table: "people", mode: "replace" }), 400, message);
    }
  });

  test("a stored file that does not match its _storage row is refused; no file is left behind", async () => {
    const id = encodeDocumentId(540, new Uint8Array(16).fill(9));
    const zip = zipSync({
      "_tables/documents.jsonl": strToU8(""),
      "_storage/documents.jsonl": strToU8(`{"_id":"${id}","_creationTime":1.0,"sha256":"${"A".repeat(43)}=","size":3,"contentType":null}\n`),
      [`_storage/${id}`]: new Uint8Array([1, 2, 3]),
    });
    await refused(await postFile(writeFile("mismatch.zip", zip), { mode: "replace" }), 400, /does not match its _storage row/);
    expect(filesUnder(path.join(work, "data", "storage", "blobs"))).toEqual([]);
    expect(filesUnder(path.join(work, "data", "storage", "tmp"))).toEqual([]);
  });

  test("an import upload declaring more than the limit (16 GiB) gets its 413 before the body is read, without a reset", async () => {
    const file = path.join(work, "big-body.bin");
    await writeStreamed(file, [], 64 * MiB, "x", []);
    const outcome = await postFile(file, { format: "jsonLines", table: "people" }, { "Content-Length": 17 * 1024 ** 3 });
    // The client wrote its 64 MiB and then stops short of what it declared; the engine answered first.
    expect(outcome.status).toBe(413);
    expect(JSON.parse(outcome.body)).toMatchObject({ code: "PayloadTooLarge" });
  }, 60_000);

  test("through all of the above, the engine's peak memory grew by less than 64 MiB", () => {
    const growth = memoryOf(engine.child.pid!).peak - peakBefore;
    expect(growth, `peak RSS grew by ${(growth / MiB).toFixed(1)} MiB`).toBeLessThan(64 * MiB);
  });
});

describe("import limits", () => {
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(path.join(tmpdir(), "import-limits-"));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  /** Runs an import straight into a real store (offline, as the CLI does on a stopped folder). */
  async function importWith(zip: Uint8Array, limits: Record<string, number>): Promise<unknown> {
    const file = path.join(work, "limits.zip");
    writeFileSync(file, zip);
    const store = createSqliteStore({ path: path.join(work, "db.sqlite3"), now: () => Date.now(), randomBytes: (n) => new Uint8Array(n).map(() => Math.random() * 256) });
    try {
      return await importFile(
        { file, format: "zip", table: null, mode: "replace", limits },
        {
          store,
          blobs: createDiskBlobStore(path.join(work, "storage")),
          now: () => Date.now(),
          transact: async (fn) => {
            store.begin();
            try {
              const out = await fn();
              store.commit();
              return out;
            } catch (e) {
              store.rollback();
              throw e;
            }
          },
        },
      ).catch((e: Error) => e.message);
    } finally {
      expect(store.count("people")).toBe(0);
      store.close();
    }
  }

  test("too many entries, an entry too large, a total too large: refused before anything is read", async () => {
    const entries: Record<string, Uint8Array> = { "_tables/documents.jsonl": strToU8('{"name":"people","id":10001}\n') };
    for (let i = 0; i < 11; i++) entries[`junk/${i}.txt`] = strToU8(`entry ${i}`);
    expect(await importWith(zipSync(entries), { maxEntries: 10 })).toMatch(/12 entries; the limit is 10/);
    const big = zipSync({ "_tables/documents.jsonl": strToU8('{"name":"people","id":10001}\n'), "people/documents.jsonl": new Uint8Array(5000) });
    expect(await importWith(big, { maxEntryBytes: 4096 })).toMatch(/people\/documents\.jsonl" is 5000 bytes decompressed; the limit per entry is 4096/);
    expect(await importWith(big, { maxTotalBytes: 4096 })).toMatch(/add up to more than 4096 bytes/);
  });
});

/** The engine process's resident memory and its peak so far, from /proc. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)![1]) * 1024;
  return { rss: kib("VmRSS"), peak: kib("VmHWM") };
}

function filesUnder(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}

/** `size` bytes of `byte`, made 1 MiB at a time. */
function* repeat(size: number, byte: number): Generator<Uint8Array> {
  const chunk = new Uint8Array(MiB).fill(byte);
  for (let left = size; left > 0; left -= MiB) yield left >= MiB ? chunk : chunk.subarray(0, left);
}

/** Writes head, then `size` bytes of one character, then tail, without holding the file in memory. */
async function writeStreamed(file: string, head: string[], size: number, char: string, tail: string[]): Promise<void> {
  const out = createWriteStream(file);
  // events.once() waits for "drain" and rejects on "error", and removes both
  // listeners when it settles (one listener per write used to pile up).
  const write = async (data: string | Uint8Array) => {
    if (!out.write(data)) await once(out, "drain");
  };
  for (const part of head) await write(part);
  for (const chunk of repeat(size, char.charCodeAt(0))) await write(chunk);
  for (const part of tail) await write(part);
  await new Promise<void>((resolve) => out.end(() => resolve()));
}
