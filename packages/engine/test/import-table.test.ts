import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { jsonToConvex, type JSONValue, type Value } from "convex/values";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { encodeDocumentId } from "../src/values/document-id";
import { spawnEngine, type EngineProcess } from "./support/engine-process";
import { startTestEngine, type TestEngine } from "./support/test-engine";

/**
 * `import --table NAME` of CSV, JSON Lines and JSON arrays, as `npx convex
 * import` does it (issue 12.4): the format from `--format` or the extension,
 * Convex's typing rules, `_id`s kept and new ids for rows without one,
 * `--replace` / `--append`, row-numbered errors with nothing written, live
 * queries seeing the import, against a running engine and a stopped folder.
 */

const APP = fileURLToPath(new URL("fixtures/import-app/convex", import.meta.url));
const BIN = fileURLToPath(new URL("../bin/convex-local.mjs", import.meta.url));
const cli = promisify(execFile);
const listPeople = makeFunctionReference<"query">("people:list");
const byName = makeFunctionReference<"query">("people:byName");
const getPerson = makeFunctionReference<"query">("people:get");

type Doc = Record<string, Value>;

describe("import --table", () => {
  let work: string;
  let running: TestEngine;
  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), "import-table-"));
    running = await startTestEngine({ appDir: APP });
  });
  afterAll(async () => {
    await running?.close();
    rmSync(work, { recursive: true, force: true });
  });

  const post = (body: string, params: Record<string, string>) =>
    fetch(`${running.engine.cloudUrl}/api/admin/import?${new URLSearchParams(params)}`, {
      method: "POST",
      headers: { Authorization: `Convex ${running.engine.adminKey}` },
      body,
    });
  const documents = (table: string) => adminDocuments(running.engine.cloudUrl, running.engine.adminKey, table);

  test("CSV: a header, numbers as float64, other cells strings, empty optional fields left out, NaN/inf as null", async () => {
    const csv = [
      "name, age ,city,note",
      'Ada,36,London,"likes, commas"',
      "Grace,85.5,,-0",
      'Linus,"1e3",Helsinki,007',
      "Edsger,,Nuenen,inf",
      "",
      'Barbara,NaN,"",x',
    ].join("\r\n");
    // The `people` schema has no `note` field: the strict validator refuses it, so this goes to `rows` (v.any()).
    const response = await post(csv, { format: "csv", table: "rows", mode: "requireEmpty" });
    expect(response.status, await response.clone().text()).toBe(200);
    expect(await response.json()).toEqual({ tables: [{ name: "rows", documents: 5 }], files: 0 });
    const rows = await documents("rows");
    expect(rows.map(({ _id, _creationTime, ...fields }) => fields)).toEqual([
      { name: "Ada", age: 36, city: "London", note: "likes, commas" },
      { name: "Grace", age: 85.5, city: "", note: -0 },
      { name: "Linus", age: 1000, city: "Helsinki", note: 7 },
      { name: "Edsger", age: "", city: "Nuenen", note: null },
      { name: "Barbara", age: null, city: "", note: "x" },
    ]);
    // Numbers are float64, never int64 (Convex's CSV rule).
    expect(typeof rows[0]!.age).toBe("number");
    expect(Object.is(rows[1]!.note, -0)).toBe(true);

    // In a table whose schema makes `age` and `city` optional, their empty cells are left out.
    const people = await post("name,age,city\nAda,36,\nGrace,,Arlington\n", { format: "csv", table: "people" });
    expect(people.status, await people.clone().text()).toBe(200);
    expect((await documents("people")).map(({ _id, _creationTime, ...fields }) => fields)).toEqual([
      { name: "Ada", age: 36 },
      { name: "Grace", city: "Arlington" },
    ]);
  });

  test("JSON Lines and JSON arrays: ids kept (the table takes their number), new ids for rows without, $integer/$bytes decoded", async () => {
    const ids = [encodeDocumentId(10077, new Uint8Array(16).fill(1)), encodeDocumentId(10077, new Uint8Array(16).fill(2))];
    const jsonl = [
      JSON.stringify({ _id: ids[0], _creationTime: 1700000000000.5, kind: "kept", n: 1 }),
      JSON.stringify({ kind: "new", n: { $integer: "BQAAAAAAAAA=" }, raw: { $bytes: "AQI=" } }),
      "",
      JSON.stringify({ _id: ids[1], kind: "kept too", nested: { deep: [1, { x: true }] } }),
    ].join("\n");
    const response = await post(jsonl, { format: "jsonLines", table: "rows", mode: "replace" });
    expect(response.status, await response.clone().text()).toBe(200);
    const rows = await documents("rows");
    expect(rows).toHaveLength(3);
    expect(running.engine.store.tableNumber("rows")).toBe(10077);
    expect(rows[0]).toMatchObject({ _id: ids[0], _creationTime: 1700000000000.5, kind: "kept", n: 1 });
    expect(rows.find((r) => r.kind === "new")!.n).toBe(5n);
    expect(new Uint8Array(rows.find((r) => r.kind === "new")!.raw as ArrayBuffer)).toEqual(new Uint8Array([1, 2]));
    const fresh = rows.find((r) => r.kind === "new")!;
    expect(ids).not.toContain(fresh._id);
    expect(running.engine.store.tableNumber("rows")).toBe(10077);
    expect(rows.find((r) => r.kind === "kept too")!._id).toBe(ids[1]);

    // A JSON array appended: elements streamed one by one, whitespace and all.
    const array = ' [ {"kind":"array","text":"a ] , [ b"} ,\n{"kind":"array","list":[[1],[2]]} ] \n';
    const appended = await post(array, { format: "jsonArray", table: "rows", mode: "append" });
    expect(appended.status, await appended.clone().text()).toBe(200);
    expect(await appended.json()).toEqual({ tables: [{ name: "rows", documents: 2 }], files: 0 });
    const after = await documents("rows");
    expect(after).toHaveLength(5);
    expect(after.filter((r) => r.kind === "array").map((r) => r.text ?? r.list)).toEqual(["a ] , [ b", [[1], [2]]]);
  });

  test("errors name the row, and nothing of a failed import is written", async () => {
    await post('{"name":"Existing"}\n', { format: "jsonLines", table: "people", mode: "replace" });
    const before = running.engine.store.lastCommitTs();
    const cases: [string, Record<string, string>, RegExp][] = [
      ['{"name":"ok"}\n{"name":"ok"}\n{"name":42}\n', { format: "jsonLines" }, /row 3 .*line 3/],
      ['{"name":"ok"}\n{"name":\n', { format: "jsonLines" }, /row 2 .*not valid JSON/],
      ['{"name":"ok"}\n[1,2]\n', { format: "jsonLines" }, /row 2 .*must be a JSON object/],
      ['[{"name":"ok"},{"name":"ok"},]', { format: "jsonArray" }, /comma after element 2/],
      ['[{"name":"ok"}', { format: "jsonArray" }, /ends before the array is closed/],
      ['{"name":"not an array"}', { format: "jsonArray" }, /not a JSON array/],
      ["name,age\nok,1\nshort\n", { format: "csv" }, /CSV row 2 doesn't have all of the fields in the header/],
      ["name,$bad\nx,1\n", { format: "csv" }, /CSV header "\$bad" isn't a valid field name/],
      ['{"name":"ok","_secret":1}\n', { format: "jsonLines" }, /row 1 .*reserved for system fields/],
    ];
    for (const [body, params, message] of cases) {
      const response = await post(body, { ...params, table: "people", mode: "replace" });
      expect(response.status, body).toBe(400);
      expect(((await response.json()) as { message: string }).message, body).toMatch(message);
    }
    expect(running.engine.store.lastCommitTs()).toBe(before);
    expect((await documents("people")).map((d) => d.name)).toEqual(["Existing"]);
  });

  test("modes: refused into a table with data unless --replace or --append; a live query sees the import at once", async () => {
    await post('{"name":"First"}\n', { format: "jsonLines", table: "people", mode: "replace" });
    const client = new ConvexClient(running.engine.cloudUrl, { logger: false });
    try {
      const seen: string[][] = [];
      let notify: () => void = () => {};
      client.onUpdate(listPeople, {}, (people: Doc[]) => {
        seen.push(people.map((p) => p.name as string));
        notify();
      });
      const update = (count: number) =>
        new Promise<void>((resolve) => {
          notify = () => seen.length >= count && resolve();
          notify();
        });
      await update(1);
      expect(seen.at(-1)).toEqual(["First"]);

      const refused = await post('{"name":"Second"}\n', { format: "jsonLines", table: "people" });
      expect(refused.status).toBe(400);
      expect(await refused.text()).toMatch(/already has 1 documents.*--replace.*--append/);

      expect((await post('{"name":"Second"}\n', { format: "jsonLines", table: "people", mode: "append" })).status).toBe(200);
      await update(2);
      expect(seen.at(-1)).toEqual(["First", "Second"]);

      expect((await post("name\nThird\n", { format: "csv", table: "people", mode: "replace" })).status).toBe(200);
      await update(3);
      expect(seen.at(-1)).toEqual(["Third"]);
    } finally {
      await client.close();
    }
  });

  test("a bulk import (20,000 rows, written per table) reaches live subscriptions and drops cached query results", async () => {
    await post('{"name":"First"}\n', { format: "jsonLines", table: "people", mode: "replace" });
    const http = new ConvexHttpClient(running.engine.cloudUrl, { logger: false });
    // Cached by the engine's query cache from here on.
    expect(await http.query(byName, { name: "Zed" })).toBeNull();
    const client = new ConvexClient(running.engine.cloudUrl, { logger: false });
    try {
      const seen: (Doc | null)[] = [];
      let notify: () => void = () => {};
      client.onUpdate(byName, { name: "Zed" }, (doc: Doc | null) => {
        seen.push(doc);
        notify();
      });
      const update = (count: number) =>
        new Promise<void>((resolve) => {
          notify = () => seen.length >= count && resolve();
          notify();
        });
      await update(1);
      expect(seen[0]).toBeNull();
      const rows = Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ name: i === 19_999 ? "Zed" : `person ${i}` })).join("\n");
      const imported = await post(rows, { format: "jsonLines", table: "people", mode: "append" });
      expect(imported.status, await imported.clone().text()).toBe(200);
      await update(2);
      expect(seen.at(-1)).toMatchObject({ name: "Zed" });
      expect(await http.query(byName, { name: "Zed" })).toMatchObject({ name: "Zed" });
    } finally {
      await client.close();
    }
  }, 60_000);

  test("a bulk import that replaces a table leaves no document it deleted in any cache", async () => {
    await post('{"name":"Doomed"}\n', { format: "jsonLines", table: "people", mode: "replace" });
    const http = new ConvexHttpClient(running.engine.cloudUrl, { logger: false });
    const doomed = (await http.query(byName, { name: "Doomed" }))!;
    // Read by id once: the query worker's document cache and the query cache now hold it.
    expect(await http.query(getPerson, { id: doomed._id })).toMatchObject({ name: "Doomed" });
    const rows = Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ name: `person ${i}` })).join("\n");
    const imported = await post(rows, { format: "jsonLines", table: "people", mode: "replace" });
    expect(imported.status, await imported.clone().text()).toBe(200);
    expect(await http.query(getPerson, { id: doomed._id })).toBeNull();
  }, 60_000);

  test("the CLI: format by extension, --table rules, a running engine and a stopped data folder", async () => {
    const dataDir = path.join(work, "cli-data");
    const csv = path.join(work, "people.csv");
    writeFileSync(csv, "name,age\nAda,36\nGrace,85\n");
    const jsonl = path.join(work, "more.jsonl");
    writeFileSync(jsonl, '{"name":"Linus"}\n');
    const noExtension = path.join(work, "people-data");
    writeFileSync(noExtension, '[{"name":"Edsger"}]');
    const run = (...args: string[]) => cli(process.execPath, [BIN, "import", ...args, "--data", dataDir]);
    const failure = (...args: string[]) => run(...args).then(() => "", (e: { stderr: string }) => e.stderr);

    // Argument rules of `npx convex import`.
    expect(await failure(csv)).toMatch(/`--table` option is required for format csv/);
    expect(await failure("--table", "people", noExtension)).toMatch(/No input file format inferred/);
    expect(await failure("--table", "people", "--format", "xml", csv)).toMatch(/--format must be one of zip, csv, jsonLines, jsonArray/);

    // A stopped folder: written directly.
    expect((await run("--table", "people", csv)).stdout).toMatch(/imported 2 documents into table "people"/);
    expect((await run("--table", "people", "--append", jsonl)).stdout).toMatch(/imported 1 documents/);

    // A running engine on the same folder: through its admin API.
    let engine: EngineProcess | null = await spawnEngine({ appDir: APP, dataDir });
    try {
      expect((await run("--table", "people", "--format", "jsonArray", "--append", noExtension)).stdout).toMatch(/imported 1 documents/);
      const names = (await adminDocuments(engine.cloudUrl, engine.adminKey, "people")).map((d) => d.name);
      expect(names).toEqual(["Ada", "Grace", "Linus", "Edsger"]);
      expect(await failure("--table", "people", csv)).toMatch(/already has 4 documents/);
    } finally {
      await engine.stop();
      engine = null;
    }
  }, 60_000);
});

async function adminDocuments(cloudUrl: string, adminKey: string, table: string): Promise<Doc[]> {
  const response = await fetch(`${cloudUrl}/api/admin/documents?table=${table}&limit=1000`, {
    headers: { Authorization: `Convex ${adminKey}` },
  });
  const { documents } = (await response.json()) as { documents: JSONValue[] };
  return documents.map((d) => jsonToConvex(d) as Doc);
}
