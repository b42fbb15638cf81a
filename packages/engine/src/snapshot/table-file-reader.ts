import { createReadStream } from "node:fs";
import path from "node:path";
import { EngineError } from "../errors.js";
import { isSystemTableName, isValidTableName } from "../values/table-names.js";
import { readCsv } from "./csv-reader.js";
import type { ImportLimits } from "./import-limits.js";
import type { ImportUnit } from "./import-units.js";
import { readJsonArray } from "./json-array-reader.js";
import { parseDocumentText } from "./json-document.js";
import { readLines } from "./line-reader.js";

/** The formats of `npx convex import` (its `--format` choices). */
export type ImportFormat = "zip" | "csv" | "jsonLines" | "jsonArray";

const FORMATS: readonly ImportFormat[] = ["zip", "csv", "jsonLines", "jsonArray"];
const EXTENSIONS: Record<string, ImportFormat> = { ".zip": "zip", ".csv": "csv", ".jsonl": "jsonLines", ".json": "jsonArray" };

/**
 * The format of an import as `npx convex import` decides it: `--format` when
 * given, else the file's extension (`.zip`, `.csv`, `.jsonl`, `.json`).
 */
export function importFormatOf(file: string, flag: string | null): ImportFormat {
  if (flag !== null) {
    if (!(FORMATS as readonly string[]).includes(flag)) {
      throw new EngineError("BadArguments", `--format must be one of ${FORMATS.join(", ")}; got "${flag}".`);
    }
    return flag as ImportFormat;
  }
  const byExtension = EXTENSIONS[path.extname(file).toLowerCase()];
  if (byExtension === undefined) {
    throw new EngineError(
      "BadArguments",
      "No input file format inferred by the filename extension or specified. Specify your input file's format using the `--format` flag.",
    );
  }
  return byExtension;
}

/** Checks the `--table` rules of `npx convex import`: required for csv/JSON formats, refused for a ZIP. */
export function checkTableOption(format: ImportFormat, table: string | null): void {
  if (format === "zip") {
    if (table !== null) throw new EngineError("BadArguments", "The `--table` option is not allowed for format zip.");
    return;
  }
  if (table === null) throw new EngineError("BadArguments", `The \`--table\` option is required for format ${format}.`);
  if (!isValidTableName(table) || isSystemTableName(table)) {
    throw new EngineError("BadArguments", `"${table}" isn't a valid table name (a letter, then letters, digits and _).`);
  }
}

/**
 * Reads a single-table file (`csv`, `jsonLines`, `jsonArray`) as import units,
 * streaming from disk: every number of JSON is a float64 and `$`-objects are
 * Convex JSON (`$integer`, `$bytes`), as Convex reads these files; `_id` and
 * `_creationTime` are kept when present. Rows are numbered from 1.
 */
export async function* readTableFile(
  file: string,
  options: { format: Exclude<ImportFormat, "zip">; table: string; limits: ImportLimits; optionalFields: ReadonlySet<string> },
): AsyncGenerator<ImportUnit> {
  const { format, table, limits } = options;
  const name = path.basename(file);
  yield { kind: "tables", tables: [{ name: table, number: null }], storage: false };
  const source = createReadStream(file, { highWaterMark: 256 * 1024 });
  try {
    if (format === "jsonLines") {
      let row = 0;
      for await (const { text, line } of readLines(source, limits.maxLineBytes, name)) {
        if (text.trim() === "") continue;
        row += 1;
        const where = `${name} row ${row} (line ${line})`;
        yield { kind: "document", table, where, doc: parseDocumentText(text, false, limits.maxDepth, where) };
      }
    } else if (format === "jsonArray") {
      for await (const { text, index } of readJsonArray(source, { maxBytes: limits.maxLineBytes, maxDepth: limits.maxDepth }, name)) {
        const where = `${name} row ${index}`;
        yield { kind: "document", table, where, doc: parseDocumentText(text, false, limits.maxDepth, where) };
      }
    } else {
      const csv = readCsv(source, { maxRecordBytes: limits.maxLineBytes, optionalFields: options.optionalFields }, name);
      for await (const { doc, row } of csv) yield { kind: "document", table, where: `${name} row ${row}`, doc };
    }
  } finally {
    source.destroy();
  }
}
