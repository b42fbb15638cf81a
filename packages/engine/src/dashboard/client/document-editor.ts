import type { JSONValue } from "convex/values";
import { h, setChildren } from "./element-builder.js";
import { errorText } from "./view.js";

/** How the editor is set up: a new document for `table`, or an existing one by id. */
export interface DocumentEditorOptions {
  title: string;
  /** The fields to start from, as Convex JSON (system fields are left out). */
  fields: JSONValue;
  saveLabel: string;
  /** Saves the edited fields; throws with the engine's message (a schema mismatch) to keep the editor open. */
  save(fields: JSONValue): Promise<void>;
  onClose(): void;
}

/**
 * A side panel with the document's fields as Convex JSON (`{"$integer": …}`
 * for int64, `{"$bytes": …}` for bytes), as "Copy JSON" gives them. The
 * engine validates the saved document against the schema; its refusal shows
 * under the text, which stays as typed.
 */
export function createDocumentEditor(options: DocumentEditorOptions): HTMLElement {
  const { _id, _creationTime, ...fields } = options.fields as Record<string, JSONValue>;
  void _id;
  void _creationTime;
  const text = h("textarea", {
    id: "document-json",
    class: "input code",
    rows: 16,
    spellcheck: "false",
    autocomplete: "off",
    onKeydown: (event: KeyboardEvent) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        void submit();
      }
    },
  });
  text.value = JSON.stringify(fields, null, 2);
  const error = h("p", { class: "form-error", role: "alert" });
  const saveButton = h("button", { class: "button primary", type: "button", onClick: () => void submit() }, options.saveLabel);

  async function submit(): Promise<void> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text.value);
    } catch (e) {
      setChildren(error, `Not valid JSON: ${errorText(e)}`);
      return;
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      setChildren(error, "A document is a JSON object of fields.");
      return;
    }
    saveButton.disabled = true;
    setChildren(error);
    try {
      await options.save(parsed as JSONValue);
    } catch (e) {
      setChildren(error, errorText(e));
      saveButton.disabled = false;
    }
  }

  queueMicrotask(() => text.focus());
  return h(
    "aside",
    { class: "side-panel editor", "aria-label": options.title },
    h(
      "header",
      { class: "panel-header" },
      h("div", { class: "panel-title" }, h("h2", null, options.title)),
      h("button", { class: "button icon", type: "button", "aria-label": "Close (Esc)", title: "Close (Esc)", onClick: options.onClose }, "×"),
    ),
    h(
      "div",
      { class: "panel-body" },
      h("label", { class: "field-label", for: "document-json" }, "Fields (Convex JSON)"),
      text,
      error,
      h("div", { class: "run-bar" }, saveButton, h("button", { class: "button", type: "button", onClick: options.onClose }, "Cancel"), h("span", { class: "hint" }, h("kbd", null, "Ctrl"), "+", h("kbd", null, "Enter"))),
    ),
  );
}
