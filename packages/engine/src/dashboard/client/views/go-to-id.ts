import type { AdminClient } from "../admin-client.js";
import { h, setChildren } from "../element-builder.js";
import { errorText } from "../view.js";

/** The "Go to id…" box and the error line under it. */
export interface GoToIdBox {
  readonly element: HTMLElement;
  /** Clears the error (the view changed: an old error must not follow it). */
  clearError(): void;
}

/**
 * A box that finds any document by id and opens it where it lives: files and scheduled
 * jobs in their own views, other documents in their table. A wrong id is said under the
 * box, not in a toast over the page.
 */
export function createGoToIdBox(api: AdminClient, navigate: (hash: string) => void): GoToIdBox {
  const error = h("p", { class: "form-error go-to-error", role: "alert" });
  const input = h("input", {
    class: "input mono",
    type: "search",
    placeholder: "Go to id…",
    "aria-label": "Go to a document by id",
    "data-shortcut": "search",
    onInput: () => setChildren(error),
    onKeydown: (event: KeyboardEvent) => {
      if (event.key === "Enter" && input.value.trim() !== "") void goTo(input.value.trim());
    },
  });

  async function goTo(id: string): Promise<void> {
    try {
      const { table } = await api.document(id);
      input.value = "";
      setChildren(error);
      navigate(table === "_storage" ? `#/files/${id}` : table === "_scheduled_functions" ? `#/schedules/${id}` : `#/data/${encodeURIComponent(table)}/${id}`);
    } catch (e) {
      setChildren(error, errorText(e));
    }
  }

  return { element: h("div", { class: "go-to" }, input, error), clearError: () => setChildren(error) };
}
