import { formatCount } from "./display-format.js";
import { h, setChildren } from "./element-builder.js";

/**
 * Previous/next paging over key cursors. The engine pages by "after this
 * key", so going back replays a remembered cursor instead of an offset.
 */
export interface PageControls {
  readonly element: HTMLElement;
  /** The cursor of the page to show. */
  readonly cursor: string | null;
  /** Records what the current page held: its size, the next cursor and the total (null when unknown, as with a filter). */
  loaded(count: number, nextCursor: string | null, total: number | null): void;
  /** Back to the first page (another table, another order). */
  reset(): void;
}

/** Creates the controls; `onChange` loads the page whose cursor is now current. */
export function createPageControls(pageSize: number, onChange: () => void): PageControls {
  let cursors: (string | null)[] = [null];
  let index = 0;
  let next: string | null = null;
  const range = h("span", { class: "page-range", "aria-live": "polite" });
  const prev = h("button", { class: "button", type: "button", "aria-label": "Previous page", onClick: () => go(-1) }, "‹ Previous");
  const forward = h("button", { class: "button", type: "button", "aria-label": "Next page", onClick: () => go(1) }, "Next ›");
  const element = h("div", { class: "page-controls" }, range, prev, forward);

  function go(delta: number): void {
    if (delta > 0 && next === null) return;
    if (delta < 0 && index === 0) return;
    index += delta;
    if (delta > 0) cursors[index] = next;
    onChange();
  }

  return {
    element,
    get cursor() {
      return cursors[index] ?? null;
    },
    loaded(count, nextCursor, total) {
      next = nextCursor;
      cursors = cursors.slice(0, index + 1);
      const first = index * pageSize + 1;
      const shown = `${formatCount(first)}–${formatCount(first + count - 1)}`;
      if (total === null) setChildren(range, count === 0 ? (index === 0 ? "No matches" : "No more matches") : `${shown}${next === null ? "" : " …"}`);
      else setChildren(range, count === 0 ? `${formatCount(total)} in all` : `${shown} of ${formatCount(total)}`);
      prev.disabled = index === 0;
      forward.disabled = next === null;
    },
    reset() {
      cursors = [null];
      index = 0;
      next = null;
    },
  };
}
