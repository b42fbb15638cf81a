import { h } from "../element-builder.js";

/**
 * An inline question with a dangerous action and Cancel (deleting a document), shown in
 * the panel rather than as a browser dialog, so the page stays live and testable.
 */
export function createConfirmBar(options: {
  question: string;
  text: string;
  confirmLabel: string;
  onConfirm(): Promise<void>;
  onCancel(): void;
}): HTMLElement {
  const bar = h(
    "div",
    { class: "confirm-bar", role: "alertdialog", "aria-label": options.question },
    h("span", { class: "confirm-text" }, options.text),
    h("button", { class: "button danger", type: "button", onClick: () => void options.onConfirm() }, options.confirmLabel),
    h("button", { class: "button", type: "button", onClick: () => (options.onCancel(), bar.remove()) }, "Cancel"),
  );
  return bar;
}
