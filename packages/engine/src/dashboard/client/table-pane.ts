import type { DataGrid } from "./data-grid.js";
import { h, type Child } from "./element-builder.js";
import type { PageControls } from "./page-controls.js";

/**
 * The layout the list sections share: a header (title, count, Refresh), the
 * grid, the pager, and a slot on the right for the open item's panel.
 */
export function tablePane(options: {
  className: string;
  title: string;
  subtitle: HTMLElement;
  grid: { element: HTMLElement };
  pager: PageControls;
  onRefresh: () => void;
  /** Controls before Refresh (an upload button). */
  actions?: Child;
}): { element: HTMLElement; panelSlot: HTMLElement } {
  const panelSlot = h("div", { class: "panel-slot" });
  const element = h(
    "div",
    { class: `view ${options.className}` },
    h(
      "section",
      { class: "table-pane" },
      h(
        "header",
        { class: "view-header" },
        h("div", { class: "view-heading" }, h("h1", null, options.title), options.subtitle),
        h("div", { class: "view-actions" }, options.actions ?? null, h("button", { class: "button", type: "button", title: "Reload (r)", onClick: options.onRefresh }, "Refresh")),
      ),
      options.grid.element,
      options.pager.element,
    ),
    panelSlot,
  );
  return { element, panelSlot };
}

/**
 * Keys of a list section: Esc closes the open item (going to `closeRoute`),
 * j/k and the arrows move into the grid.
 */
export function listKeys(isOpen: () => boolean, close: () => void, grid: DataGrid<unknown> | { focus(): void }) {
  return (event: KeyboardEvent): boolean => {
    if (event.key === "Escape" && isOpen()) {
      close();
      return true;
    }
    if (event.key === "j" || event.key === "k" || event.key === "ArrowDown" || event.key === "ArrowUp") {
      grid.focus();
      return true;
    }
    return false;
  };
}
