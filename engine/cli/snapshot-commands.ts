import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { EngineError, isEngineError } from "../errors.js";
import { isDataFolderLocked } from "../data-folder.js";
import { exportSnapshot } from "../snapshot/snapshot-export.js";
import { importSnapshot, type ImportMode } from "../snapshot/snapshot-import.js";
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
  const file = exportTarget(requirePath(values.path, "export"), values.force === true);
  const includeStorage = values["include-file-storage"] === true;
  const dataDir = existingDataDir(values.data);
  const running = findRunningEngine(dataDir);
  if (running !== null) {
    const response = await fetch(`${running.cloudUrl}/api/admin/export?includeStorage=${includeStorage}`, {
      method: "POST",
      headers: { Authorization: `Convex ${running.adminKey}` },
    });
    if (!response.ok) throw refusal("ExportFailed", response.status, await response.text());
    writeFileSync(file, Buffer.from(await response.arrayBuffer()));
  } else {
    await withOfflineStore(dataDir, (store) =>
      exportSnapshot({ store, blobs: createDiskBlobStore(path.join(dataDir, "storage")), includeStorage, file }),
    );
  }
  process.stdout.write(`exported to ${file}${includeStorage ? " (with file storage)" : ""}\n`);
  return 0;
}

/**
 * `import --path FILE.zip [--replace | --append]`: reads a snapshot ZIP
 * (ids and creation times kept) in one transaction. Without a flag, tables
 * that already hold documents make it fail.
 */
export async function importCommand(argv: string[]): Promise<number> {
  const { values } = parseCommand(argv, {
    path: { type: "string" },
    replace: { type: "boolean" },
    append: { type: "boolean" },
  });
  const file = requirePath(values.path, "import");
  if (values.replace === true && values.append === true) throw new EngineError("BadArguments", "Choose --replace or --append, not both.");
  const mode: ImportMode = values.replace === true ? "replace" : values.append === true ? "append" : "requireEmpty";
  if (!existsSync(file)) throw new EngineError("BadArguments", `No file at ${file} (--path): give the snapshot ZIP that \`export\` or \`npx convex export\` wrote.`);
  const zip = readFileSync(file);
  const dataDir = dataDirOption(values.data);
  const running = findRunningEngine(dataDir);
  let summary: { tables: { name: string; documents: number }[]; files: number };
  if (running !== null) {
    const response = await fetch(`${running.cloudUrl}/api/admin/import?mode=${mode}`, {
      method: "POST",
      headers: { Authorization: `Convex ${running.adminKey}`, "Content-Type": "application/zip" },
      body: zip,
    });
    const text = await response.text();
    if (!response.ok) throw importFailed(refusal("ImportFailed", response.status, text));
    summary = JSON.parse(text);
  } else {
    summary = await withOfflineStore(dataDir, async (store) =>
      importSnapshot({
        store,
        blobs: createDiskBlobStore(path.join(dataDir, "storage")),
        zip,
        mode,
        transact: async (fn) => {
          store.begin();
          try {
            const result = fn();
            store.commit();
            return result;
          } catch (e) {
            store.rollback();
            throw e;
          }
        },
      }).catch((e: unknown) => {
        throw importFailed(e);
      }),
    );
  }
  const documents = summary.tables.reduce((n, t) => n + t.documents, 0);
  process.stdout.write(`imported ${documents} documents in ${summary.tables.length} tables and ${summary.files} files from ${file}\n`);
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

function requirePath(raw: unknown, command: string): string {
  if (typeof raw !== "string" || raw === "") throw new EngineError("BadArguments", `${command} needs --path FILE.zip`);
  return path.resolve(raw);
}
