import type { JSONValue } from "convex/values";
import { bytesPreview, decodeConvexJson, isTimeField, looksLikeId, numberText, type DisplayValue } from "./convex-value.js";
import { formatTimestamp } from "./display-format.js";
import { h, type Child } from "./element-builder.js";

/** Where an id links to: a route that finds the id's table and opens the document. */
export function idHref(id: string): string {
  return `#/id/${encodeURIComponent(id)}`;
}

/**
 * A value in full, laid out like source code (`{ name: "x", n: 5n }` over
 * several lines), as selectable text: ids are links, int64s end in `n`,
 * bytes show their length and first bytes, timestamps their date.
 */
export function renderValue(json: JSONValue): HTMLElement {
  return h("pre", { class: "value-view" }, full(decodeConvexJson(json), ""));
}

/** A value on one line for a table cell, cut short; ids stay links. */
export function renderCompact(json: JSONValue, field: string | null = null): Child {
  const value = decodeConvexJson(json);
  if (value.kind === "string" && looksLikeId(value.value)) return idLink(value.value);
  if (value.kind === "string") return h("span", { class: "v-string-plain", title: value.value.length > 80 ? value.value : null }, cut(value.value, 80));
  if (value.kind === "number" && field !== null && isTimeField(field, value.value)) {
    return h("span", { class: "v-time", title: numberText(value.value) }, formatTimestamp(value.value));
  }
  const text = compactText(value);
  return h("span", { class: `v-${value.kind}`, title: text.length > 100 ? text : null }, cut(text, 100));
}

/** The one-line text of a value, as in `{ a: 1, b: "x" }`. */
export function compactText(value: DisplayValue): string {
  switch (value.kind) {
    case "null":
      return "null";
    case "boolean":
      return String(value.value);
    case "number":
      return numberText(value.value);
    case "bigint":
      return `${value.value}n`;
    case "string":
      return JSON.stringify(value.value);
    case "bytes":
      return `Bytes(${value.value.length})`;
    case "array":
      return `[${value.items.map(compactText).join(", ")}]`;
    case "object":
      return value.fields.length === 0 ? "{}" : `{ ${value.fields.map(([k, v]) => `${keyText(k)}: ${compactText(v)}`).join(", ")} }`;
  }
}

function full(value: DisplayValue, indent: string): Child {
  switch (value.kind) {
    case "null":
      return h("span", { class: "v-null" }, "null");
    case "boolean":
      return h("span", { class: "v-boolean" }, String(value.value));
    case "number":
      return h("span", { class: "v-number" }, numberText(value.value));
    case "bigint":
      return h("span", { class: "v-bigint", title: "int64" }, `${value.value}n`);
    case "string":
      return looksLikeId(value.value) ? idLink(value.value) : h("span", { class: "v-string" }, JSON.stringify(value.value));
    case "bytes":
      return h("span", { class: "v-bytes", title: `${value.value.length} bytes` }, `Bytes(${value.value.length}) <${bytesPreview(value.value)}>`);
    case "array": {
      if (value.items.length === 0) return "[]";
      const inner = `${indent}  `;
      return ["[\n", value.items.map((item, i) => [inner, full(item, inner), separator(i, value.items.length), "\n"]), `${indent}]`];
    }
    case "object": {
      if (value.fields.length === 0) return "{}";
      const inner = `${indent}  `;
      return [
        "{\n",
        // A timestamp's date comment comes after the comma: a comment before it would swallow it.
        value.fields.map(([key, item], i) => [inner, h("span", { class: "v-key" }, keyText(key)), ": ", full(item, inner), separator(i, value.fields.length), timeNote(key, item)]),
        `${indent}}`,
      ];
    }
  }
}

function separator(index: number, count: number): string {
  return index < count - 1 ? "," : "";
}

/** `  // 2026-01-01 00:00:00` after a field that holds a time, then the line break. */
function timeNote(field: string, value: DisplayValue): Child {
  const note = value.kind === "number" && isTimeField(field, value.value) ? h("span", { class: "v-note" }, `  // ${formatTimestamp(value.value)}`) : null;
  return [note, "\n"];
}

function idLink(id: string): HTMLElement {
  return h("a", { class: "v-id", href: idHref(id), title: "Open this document" }, id);
}

function keyText(key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? key : JSON.stringify(key);
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
