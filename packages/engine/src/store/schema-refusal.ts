import { EngineError } from "../errors";
import type { DecodedDocument } from "./document-codec";

/**
 * The error of a schema push that existing documents do not match, short
 * enough to read in a terminal: how many documents fail (per table), the
 * first one with its reason and its fields trimmed (a base64 avatar would
 * otherwise fill the screen), and what to do about it.
 */
export class SchemaRefusal {
  private readonly counts = new Map<string, number>();
  private first: { table: string; doc: DecodedDocument; reason: string } | null = null;

  /** Records a document of `table` that fails with `reason` (from `validateValue`). */
  add(table: string, doc: DecodedDocument, reason: string): void {
    this.counts.set(table, (this.counts.get(table) ?? 0) + 1);
    this.first ??= { table, doc, reason };
  }

  /** The error to throw, or null when every document matched. */
  error(): EngineError | null {
    if (this.first === null) return null;
    const { table, doc, reason } = this.first;
    const total = [...this.counts.values()].reduce((a, b) => a + b, 0);
    const where =
      this.counts.size === 1
        ? `${documents(total)} in table "${table}" ${total === 1 ? "does" : "do"} not match the schema.`
        : `${documents(total)} do not match the schema: ${[...this.counts].map(([t, n]) => `${n} in "${t}"`).join(", ")}.`;
    // The reason's own rendering of the value is cut at 500 characters, mostly of the longest field; the trimmed document says more.
    const reasonLines = reason.split("\n").filter((line) => !line.startsWith("Value: ") && !line.startsWith("Object: "));
    const lines = [
      `Schema validation failed: ${where}`,
      `First: Document with ID "${String(doc._id)}" in table "${table}" does not match the schema: ${reasonLines[0]}`,
      ...reasonLines.slice(1).map((line) => cut(line, 300)),
      `Document: ${trimmedText(withoutCreationTime(doc), 2)}`,
      "To fix: make schema.ts accept these documents (for a new field: add it as v.optional(...), push, fill it in with a mutation, " +
        "then make it required), or change or delete the documents first (a mutation, or the dashboard's Data view), and save again.",
    ];
    return new EngineError("SchemaValidationFailed", lines.join("\n"));
  }
}

/** `_id` first, then the fields the schema checks. */
function withoutCreationTime(doc: DecodedDocument): Record<string, unknown> {
  const { _id, _creationTime, ...fields } = doc;
  void _creationTime;
  return { _id, ...fields };
}

function documents(n: number): string {
  return n === 1 ? "1 document" : `${n.toLocaleString("en-US")} documents`;
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A value on one line with long strings, bytes, arrays and deep objects shortened. */
export function trimmedText(value: unknown, depth: number): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
      return value.length > 48 ? `${JSON.stringify(value.slice(0, 40))}… (${value.length.toLocaleString("en-US")} characters)` : JSON.stringify(value);
    case "bigint":
      return `${value}n`;
    case "number":
    case "boolean":
      return String(value);
    case "undefined":
      return "undefined";
  }
  if (value instanceof ArrayBuffer) return `Bytes(${value.byteLength})`;
  if (Array.isArray(value)) {
    if (depth === 0) return `[… ${value.length} items]`;
    const shown = value.slice(0, 5).map((item) => trimmedText(item, depth - 1));
    if (value.length > 5) shown.push(`… ${value.length - 5} more`);
    return `[${shown.join(", ")}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (depth === 0) return `{… ${entries.length} fields}`;
  const shown = entries.slice(0, 12).map(([k, v]) => `${k}: ${trimmedText(v, depth - 1)}`);
  if (entries.length > 12) shown.push(`… ${entries.length - 12} more fields`);
  return `{${shown.join(", ")}}`;
}
