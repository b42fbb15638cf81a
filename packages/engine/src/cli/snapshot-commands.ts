import { createReadStream, createWriteStream, existsSync, statSync } from "node:fs";
import { request } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import path from "node:path";
import { EngineError, isEngineError } from "../errors.js";
import { isDataFolderLocked } from "../data-folder.js";
import { exportSnapshot } from "../snapshot/snapshot-export.js";
import { importFile, type ImportMode } from "../snapshot/snapshot-import.js";
import { checkTableOption, importFormatOf } from "../snapshot/table-file-reader.js";
import { createDiskBlobStore } from "../storage/disk-blob-store.js";
import { withOfflineStore } from "./offline-store.js";
import { findRunningEngine, refusal } from "./running-engine.js";
import { dataDirOption, parseCommand } from "./cli-options.js";

/**
 * `export --path FILE.zip [--include-file-storage]`: a snapshot ZIP in the
 * layout of `npx convex export`, from the running engine when one serves the
 * data folder, else straight from it.
 */
export async function exportCommand(argv: string[]): Promise<number> {
  const { values } = parseCommand(argv, { path: { type: "string" }, "include-file-storage": { type: "boolean" }, force: { type: "boolean" } });
  const file = exportTarget(requirePath(values.path, "export --path FILE.zip"), values.force === true);
  const includeStorage = values["include-file-storage"] === true;
  const dataDir = existingDataDir(values.data);
  const running = findRunningEngine(dataDir);
  if (running !== null) {
    const response = await fetch(`${running.cloudUrl}/api/admin/export?includeStorage=${includeStorage}`, {
      method: "POST",
      headers: { Authorization: `Convex ${running.adminKey}` },
    });
    if (!response.ok) throw refusal("ExportFailed", response.status, await response.text());
    // Streamed to the file: an export with file storage can be larger than memory.
    await pipeline(Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>), createWriteStream(file));
  } else {
    await withOfflineStore(dataDir, (store) =>
      exportSnapshot({ store, blobs: createDiskBlobStore(path.join(dataDir, "storage")), includeStorage, file }),
    );
  }
  process.stdout.write(`exported to ${file}${includeStorage ? " (with file storage)" : ""}\n`);
  return 0;
}

/**
 * `import [--table NAME] [--format csv|jsonLines|jsonArray|zip] [--replace | --append] <path>`
 * (or `--path FILE`), as `npx convex import`: a snapshot ZIP (ids and creation
 * times kept), or one table from CSV, JSON Lines or a JSON array, the format
 * taken from the extension unless given. Streamed into one transaction: it
 * lands whole or not at all. Without a mode, tables that already hold
 * documents make it fail. Goes through the running engine's admin API when one
 * serves the data folder, else writes the folder directly.
 */
export async function importCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, {
    path: { type: "string" },
    table: { type: "string" },
    format: { type: "string" },
    replace: { type: "boolean" },
    append: { type: "boolean" },
    yes: { type: "boolean", short: "y" },
  });
  if (positionals.length > 1) throw new EngineError("BadArguments", `import takes one file, got ${positionals.length}.`);
  const file = requirePath(values.path ?? positionals[0], "import [--table NAME] FILE");
  if (values.replace === true && values.append === true) throw new EngineError("BadArguments", "Choose --replace or --append, not both.");
  const mode: ImportMode = values.replace === true ? "replace" : values.append === true ? "append" : "requireEmpty";
  const format = importFormatOf(file, typeof values.format === "string" ? values.format : null);
  const table = typeof values.table === "string" ? values.table : null;
  checkTableOption(format, table);
  if (!existsSync(file)) throw new EngineError("BadArguments", `No file at ${file} (--path): give the snapshot ZIP that \`export\` or \`npx convex export\` wrote, or a table's CSV / JSON Lines / JSON array file.`);
  const dataDir = dataDirOption(values.data);
  const running = findRunningEngine(dataDir);
  let summary: { tables: { name: string; documents: number }[]; files: number };
  if (running !== null) {
    const query = new URLSearchParams({ mode, format, ...(table === null ? {} : { table }) });
    summary = JSON.parse(await postFile(`${running.cloudUrl}/api/admin/import?${query}`, running.adminKey, file).catch((e: unknown) => {
      throw importFailed(e);
    }));
  } else {
    summary = await withOfflineStore(dataDir, (store) =>
      importFile(
        { file, format, table, mode },
        {
          store,
          blobs: createDiskBlobStore(path.join(dataDir, "storage")),
          now: () => Date.now(),
          transact: async (fn) => {
            store.begin();
            try {
              const result = await fn();
              store.commit();
              return result;
            } catch (e) {
              store.rollback();
              throw e;
            }
          },
        },
      ).catch((e: unknown) => {
        throw importFailed(e);
      }),
    );
  }
  const documents = summary.tables.reduce((n, t) => n + t.documents, 0);
  const into = table === null ? `in ${summary.tables.length} tables and ${summary.files} files` : `into table "${table}"`;
  process.stdout.write(`imported ${documents} documents ${into} from ${file}\n`);
  return 0;
}

/** An import's failure as one readable line; the import runs in one transaction, so nothing was written. */
function importFailed(e: unknown): EngineError {
  const message = e instanceof Error ? e.message : String(e);
  return new EngineError(isEngineError(e) ? e.code : "ImportFailed", `Import failed, nothing was imported: ${message}`);
}

/**
 * Where `export` writes: a folder gets `snapshot_<time>.zip` inside it (as
 * `npx convex export` does); an existing file is replaced only with `--force`.
 */
function exportTarget(target: string, force: boolean): string {
  if (existsSync(target) && statSync(target).isDirectory()) {
    return path.join(target, `snapshot_${new Date().toISOString().replace(/[-:]/g, "").replace(/\..*$/, "")}.zip`);
  }
  if (existsSync(target) && !force) {
    throw new EngineError("BadArguments", `${target} already exists. Add --force to overwrite it, or choose another --path.`);
  }
  return target;
}

/** The data folder of a command that only reads it: a mistyped --data must not create an empty deployment. */
function existingDataDir(raw: unknown): string {
  const dataDir = dataDirOption(raw);
  // A folder another process holds is reported as in use further on, not as empty.
  if (!existsSync(path.join(dataDir, "db.sqlite3")) && !isDataFolderLocked(dataDir)) {
    throw new EngineError("NoDataFolder", `No engine data at ${dataDir} (--data): it has no db.sqlite3. Start the engine there first, or pass the folder \`start\` used.`);
  }
  return dataDir;
}

/** POSTs a file as a stream (never read into memory) with its length; resolves with the body of a 2xx answer. */
function postFile(url: string, adminKey: string, file: string): Promise<string> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        method: "POST",
        path: target.pathname + target.search,
        headers: { Authorization: `Convex ${adminKey}`, "Content-Type": "application/octet-stream", "Content-Length": statSync(file).size },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on("data", (d: Buffer) => parts.push(d));
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(parts).toString("utf8");
          if ((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300) resolve(text);
          else reject(refusal("ImportFailed", res.statusCode ?? 0, text));
        });
      },
    );
    req.on("error", reject);
    const body = createReadStream(file);
    body.on("error", (e) => req.destroy(e));
    body.pipe(req);
  });
}

function requirePath(raw: unknown, usage: string): string {
  if (typeof raw !== "string" || raw === "") throw new EngineError("BadArguments", `Which file? Usage: ${usage}`);
  return path.resolve(raw);
}
