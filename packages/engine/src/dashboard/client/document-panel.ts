import type { JSONValue } from "convex/values";
import { h, type Child } from "./element-builder.js";
import { renderValue } from "./value-view.js";

/** How a side panel showing one document is built. */
export interface DocumentPanelOptions {
  /** What the document is (`"users"`, `"File"`). */
  title: string;
  /** Its id, shown under the title. */
  id: string;
  document: JSONValue;
  onClose(): void;
  /** Shown above the fields (an image preview). */
  before?: Child;
  /** Buttons beside "Copy JSON" (Edit, Delete). */
  actions?: Child;
  notify(message: string, tone?: "info" | "success" | "error"): void;
}

/** A side panel with a document's full value, a copy button and a close button (Esc). */
export function createDocumentPanel(options: DocumentPanelOptions): HTMLElement {
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(JSON.stringify(options.document, null, 2));
      options.notify("Copied the document as Convex JSON.", "success");
    } catch {
      options.notify("The browser did not allow copying; select the text instead.", "error");
    }
  };
  return h(
    "aside",
    { class: "side-panel", "aria-label": `${options.title} ${options.id}` },
    h(
      "header",
      { class: "panel-header" },
      h("div", { class: "panel-title" }, h("h2", null, options.title), h("code", { class: "panel-id" }, options.id)),
      h(
        "div",
        { class: "panel-actions" },
        options.actions ?? null,
        h("button", { class: "button", type: "button", onClick: () => void copy() }, "Copy JSON"),
        h("button", { class: "button icon", type: "button", "aria-label": "Close (Esc)", title: "Close (Esc)", onClick: options.onClose }, "×"),
      ),
    ),
    h(
      "div",
      { class: "panel-body" },
      options.before !== undefined ? [options.before, h("h3", { class: "section-label" }, "Document")] : null,
      renderValue(options.document),
    ),
  );
}

/** A panel body while a document loads, or when it could not be loaded. */
export function placeholderPanel(text: string, onClose: () => void): HTMLElement {
  return h(
    "aside",
    { class: "side-panel" },
    h("header", { class: "panel-header" }, h("div", { class: "panel-title" }, h("h2", null, text)), h("button", { class: "button icon", type: "button", "aria-label": "Close (Esc)", onClick: onClose }, "×")),
  );
}
