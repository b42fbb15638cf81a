import type { JSONValue, Value } from "convex/values";
import { EngineError, isEngineError } from "../../errors.js";
import { decodePatchValue, decodeValue } from "../../values/maybe-value.js";
import { checkDocumentLimits, systemFieldsSize } from "../../values/value-limits.js";
import type { ExecutionContext as Execution } from "../execution-context.js";
import { budgetOf } from "../transaction-budget.js";
import { DocumentText, PageReply, type OpHandler } from "./op-types.js";

const SYSTEM_FIELDS = ["_id", "_creationTime"];
/** The longest document id (a 5-byte table number); a new document's id is no longer. */
const MAX_ID_LENGTH = 37;

/** Database reads and writes (convex-interface.md §3.1–3.2); query streams are `stream-ops.ts`. */
export const DATABASE_SYNC_OPS: Record<string, OpHandler> = {
  "1.0/db/normalizeId": (exec, args: { table: string; idString: string }) => {
    exec.requireTx("db.normalizeId");
    const id = exec.db.normalizeId(args.table, args.idString);
    return { id };
  },
  "1.0/getSnapshotTs": (exec) => {
    exec.requireTx("getSnapshotTs");
    const bytes = new DataView(new ArrayBuffer(8));
    bytes.setBigUint64(0, exec.db.latestTs(), true);
    return { $integer: Buffer.from(bytes.buffer).toString("base64") };
  },
};

export const DATABASE_ASYNC_OPS: Record<string, OpHandler> = {
  "1.0/get": (exec, args: { id: unknown; isSystem?: boolean; table?: string }) => {
    const tx = exec.requireTx("db.get");
    const id = expectId(args.id, "db.get");
    const table = tableOfAccessibleId(exec, id, "get", args.isSystem === true, args.table);
    const budget = budgetOf(tx);
    budget.indexRange();
    if (table === null) return null;
    const doc = exec.db.get(id, tx.reads);
    if (doc === null) return null;
    budget.documentRead(doc.length);
    return new DocumentText(doc);
  },
  "1.0/queryPage": (exec, args: QueryPageArgs) => {
    const tx = exec.requireTx("paginate");
    if (exec.paginated) {
      throw new EngineError(
        "MultiplePaginatedDatabaseQueries",
        "This function ran more than one paginated query. Only a single paginated query is supported in each function.",
      );
    }
    exec.paginated = true;
    const budget = budgetOf(tx);
    budget.indexRange();
    const result = exec.db.page(
      args.query,
      {
        cursor: args.cursor ?? null,
        endCursor: args.endCursor ?? null,
        pageSize: args.pageSize,
        maximumRowsRead: args.maximumRowsRead ?? null,
        maximumBytesRead: args.maximumBytesRead ?? null,
        previousEndCursor: tx.journalIn,
      },
      tx.reads,
    );
    for (const doc of result.page) budget.documentRead(doc.length);
    tx.journalOut = result.continueCursor;
    return new PageReply(result.page, result);
  },
  "1.0/count": (exec, args: { table: string }) => {
    const tx = exec.requireTx("count");
    return exec.db.count(args.table, tx.reads);
  },
  "1.0/insert": (exec, args: { table: string; value: JSONValue }) => {
    const tx = exec.requireWritable("db.insert");
    const table = args.table;
    checkTableName(table);
    // Convex's document limits on the JSON, before decoding (which recurses) walks it.
    const size = isObject(args.value) ? checkDocumentLimits(args.value, systemFieldsSize(MAX_ID_LENGTH)) : 0;
    const fields = decodeObject(args.value, "db.insert");
    for (const f of SYSTEM_FIELDS) {
      if (f in fields) {
        throw new EngineError("InvalidDocument", `Failed to insert into "${table}": the system field \`${f}\` cannot be provided.`);
      }
    }
    checkUserFieldNames(fields, "db.insert");
    budgetOf(tx).documentWritten(size);
    const id = exec.db.insert(table, fields);
    return { _id: id };
  },
  "1.0/shallowMerge": (exec, args: { id: unknown; value: Record<string, JSONValue>; table?: string }) => {
    const tx = exec.requireWritable("db.patch");
    const id = expectId(args.id, "db.patch");
    writableTable(exec, id, "patch", args.table);
    const current = exec.db.getValue(id, tx.reads);
    if (current === null) throw new EngineError("DocumentNotFound", `Patch on nonexistent document ID ${id}`);
    if (typeof args.value !== "object" || args.value === null || Array.isArray(args.value)) {
      throw new EngineError("InvalidDocument", "db.patch expects an object of fields.");
    }
    const next: Record<string, Value> = { ...current };
    for (const [key, value] of Object.entries(decodePatchValue(args.value))) {
      if (SYSTEM_FIELDS.includes(key)) {
        if (value !== current[key]) {
          throw new EngineError("InvalidDocument", `db.patch cannot change or remove the system field \`${key}\`.`);
        }
        continue;
      }
      if (value === undefined) delete next[key];
      else next[key] = value;
    }
    const fields = withoutSystemFields(next);
    checkUserFieldNames(fields, "db.patch");
    budgetOf(tx).documentWritten(checkDocumentLimits(fields, systemFieldsSize(id.length)));
    exec.db.replace(id, fields);
    return null;
  },
  "1.0/replace": (exec, args: { id: unknown; value: JSONValue; table?: string }) => {
    const tx = exec.requireWritable("db.replace");
    const id = expectId(args.id, "db.replace");
    writableTable(exec, id, "replace", args.table);
    const current = exec.db.getValue(id, tx.reads);
    if (current === null) throw new EngineError("DocumentNotFound", `Replace on nonexistent document ID ${id}`);
    const size = isObject(args.value) ? checkDocumentLimits(withoutSystemFields(args.value), systemFieldsSize(id.length)) : 0;
    const fields = decodeObject(args.value, "db.replace");
    for (const f of SYSTEM_FIELDS) {
      if (f in fields && fields[f] !== current[f]) {
        throw new EngineError("InvalidDocument", `db.replace cannot change the system field \`${f}\`.`);
      }
    }
    checkUserFieldNames(withoutSystemFields(fields), "db.replace");
    budgetOf(tx).documentWritten(size);
    exec.db.replace(id, withoutSystemFields(fields));
    return null;
  },
  "1.0/remove": (exec, args: { id: unknown; table?: string }) => {
    const tx = exec.requireWritable("db.delete");
    const id = expectId(args.id, "db.delete");
    writableTable(exec, id, "delete", args.table);
    budgetOf(tx).documentWritten(systemFieldsSize(id.length));
    try {
      exec.db.remove(id);
    } catch (e) {
      // The store checks existence anyway; reading the document first would decode it for nothing.
      if (isEngineError(e, "DocumentNotFound")) throw new EngineError("DocumentNotFound", `Delete on nonexistent document ID ${id}`);
      throw e;
    }
    return null;
  },
};

interface QueryPageArgs {
  query: unknown;
  cursor: string | null;
  endCursor?: string | null;
  pageSize: number;
  maximumRowsRead?: number | null;
  maximumBytesRead?: number | null;
}

function expectId(raw: unknown, op: string): string {
  if (typeof raw !== "string") {
    throw new EngineError("InvalidId", `Invalid argument \`id\` for \`${op}\`: expected a string id, got ${typeof raw}.`);
  }
  return raw;
}

/**
 * The id's table, checking the system/user split and the optional explicit
 * table argument. Null when the id is well formed but names no existing table.
 */
function tableOfAccessibleId(
  exec: Execution,
  id: string,
  op: string,
  isSystem: boolean,
  expectedTable: string | undefined,
): string | null {
  const resolved = exec.db.tableOfId(id);
  if (resolved === undefined) {
    throw new EngineError("InvalidId", `Invalid argument \`id\` for \`db.${op}\`: "${id}" is not a valid document id.`);
  }
  if (resolved === null) return null;
  const system = resolved.startsWith("_");
  if (system && !isSystem) {
    throw new EngineError("SystemTableAccess", `System tables can only be accessed from db.system.${op}().`);
  }
  if (!system && isSystem) {
    throw new EngineError("SystemTableAccess", `User tables can only be accessed from db.${op}().`);
  }
  if (expectedTable !== undefined && expectedTable !== resolved) {
    throw new EngineError(
      "InvalidId",
      `Invalid argument \`id\` for \`db.${op}\`: the id belongs to table "${resolved}", not "${expectedTable}".`,
    );
  }
  return resolved;
}

function writableTable(exec: Execution, id: string, op: string, expectedTable: string | undefined): string {
  const table = tableOfAccessibleId(exec, id, op, false, expectedTable);
  if (table === null) throw new EngineError("DocumentNotFound", `${capitalize(op)} on nonexistent document ID ${id}`);
  return table;
}

function checkTableName(table: unknown): asserts table is string {
  if (typeof table !== "string" || table.length === 0) {
    throw new EngineError("InvalidTableName", "db.insert needs a table name.");
  }
  if (table.startsWith("_")) throw new EngineError("SystemTableWrite", "System tables (prefixed with `_`) are read-only.");
  if (!/^[a-zA-Z][a-zA-Z0-9_]{0,63}$/.test(table)) {
    throw new EngineError(
      "InvalidTableName",
      `Invalid table name "${table}": table names start with a letter and contain only letters, digits and underscores (at most 64 characters).`,
    );
  }
}

function decodeObject(json: JSONValue, op: string): Record<string, Value> {
  const value = decodeValue(json);
  if (typeof value !== "object" || value === null || Array.isArray(value) || value instanceof ArrayBuffer) {
    throw new EngineError("InvalidDocument", `${op} expects a document object.`);
  }
  return value as Record<string, Value>;
}

/** Top-level names starting with `_` are reserved for system fields. */
function checkUserFieldNames(fields: Record<string, Value>, op: string): void {
  for (const key of Object.keys(fields)) {
    if (key.startsWith("_")) {
      throw new EngineError(
        "InvalidDocument",
        `${op}: field name "${key}" starts with an underscore, which is reserved for system fields.`,
      );
    }
  }
}

function withoutSystemFields<T>(doc: Record<string, T>): Record<string, T> {
  const { _id: _a, _creationTime: _b, ...rest } = doc;
  return rest;
}

function isObject(json: JSONValue): json is Record<string, JSONValue> {
  return typeof json === "object" && json !== null && !Array.isArray(json);
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
