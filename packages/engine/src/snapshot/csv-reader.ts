import { parse } from "csv-parse";
import type { Value } from "convex/values";
import { pipeline } from "node:stream/promises";
import { EngineError } from "../errors.js";

/** One CSV data row as a document, with its 1-based row number (the header not counted). */
export interface CsvRow {
  doc: Record<string, Value>;
  row: number;
}

/**
 * The rows of a CSV file with a header line, typed as Convex's importer types
 * them (snapshot_import/parse.rs): a cell that reads as a float64 in Rust's
 * grammar is that number, anything else stays a string; "NaN" and "inf" become
 * null (Convex turns non-finite floats into JSON null on the way). An empty
 * cell stays "" unless the column is an optional top-level field of the
 * table's schema, where it is left out (as Convex's `remap_empty_string_by_schema`).
 * Parsed by csv-parse as a stream; one record is bounded by `maxRecordBytes`.
 */
export async function* readCsv(
  source: AsyncIterable<Uint8Array>,
  options: { maxRecordBytes: number; optionalFields: ReadonlySet<string> },
  where: string,
): AsyncGenerator<CsvRow> {
  const parser = parse({ bom: true, skip_empty_lines: true, relax_column_count: true, max_record_size: options.maxRecordBytes });
  // Errors of either side surface through the parser's iterator below; the pipeline's own promise only cleans up.
  pipeline(source, parser).catch(() => {});
  let header: string[] | null = null;
  let row = 0;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      if (header === null) {
        header = headerOf(record, where);
        continue;
      }
      row += 1;
      if (record.length !== header.length) {
        throw new EngineError("InvalidImport", `${where}: CSV row ${row} doesn't have all of the fields in the header.`);
      }
      const doc: Record<string, Value> = {};
      for (let i = 0; i < header.length; i++) {
        const cell = record[i]!;
        if (cell === "" && options.optionalFields.has(header[i]!)) continue;
        Object.defineProperty(doc, header[i]!, { value: cellValue(cell), enumerable: true, writable: true, configurable: true });
      }
      yield { doc, row };
    }
  } catch (e) {
    if (e instanceof EngineError) throw e;
    throw new EngineError("InvalidImport", `${where}: CSV row ${row + 1} could not be parsed: ${(e as Error).message}`);
  } finally {
    parser.destroy();
  }
  if (header === null) throw new EngineError("InvalidImport", `${where}: the CSV file has no header line.`);
}

function headerOf(record: string[], where: string): string[] {
  const names = record.map((name) => name.replace(/^ +| +$/g, ""));
  const seen = new Set<string>();
  for (const name of names) {
    if (name === "" || name.startsWith("$")) {
      throw new EngineError("InvalidImport", `${where}: CSV header ${JSON.stringify(name)} isn't a valid field name.`);
    }
    if (seen.has(name)) throw new EngineError("InvalidImport", `${where}: CSV header ${JSON.stringify(name)} appears twice.`);
    seen.add(name);
  }
  return names;
}

/** Rust's `f64::from_str` grammar: optional sign, then inf/infinity/nan (any case) or a decimal number. */
const RUST_FLOAT = /^[+-]?(?:inf|infinity|nan|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)$/i;

function cellValue(cell: string): Value {
  if (!RUST_FLOAT.test(cell)) return cell;
  const n = Number(cell.replace(/^\+/, ""));
  return Number.isFinite(n) ? n : null;
}
