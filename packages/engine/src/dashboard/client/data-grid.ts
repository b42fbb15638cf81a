import { h, setChildren, type Child } from "./element-builder.js";

/** A column of a grid. */
export interface GridColumn<T> {
  title: string;
  cell(row: T): Child;
  /** Extra class for the column's cells (`"num"` right-aligns). */
  className?: string;
}

/** A table of rows that the keyboard can walk: ↑/↓ or j/k move, Enter opens, Home/End jump. */
export interface DataGrid<T> {
  readonly element: HTMLElement;
  setRows(rows: T[], columns?: GridColumn<T>[]): void;
  /** Marks the row with this key as selected (null: none); does not move focus. */
  select(key: string | null): void;
  /** Moves the selection (and focus) by `delta` rows. */
  move(delta: number): void;
  /** Focuses the selected row, or the first one. */
  focus(): void;
}

/** How a grid is built. */
export interface GridOptions<T> {
  label: string;
  columns: GridColumn<T>[];
  rowKey(row: T): string;
  onOpen(row: T): void;
  emptyText: string;
}

/**
 * Creates a grid. Only the selected row is in the tab order (a roving
 * tabindex), so Tab leaves the grid instead of walking every row.
 */
export function createDataGrid<T>(options: GridOptions<T>): DataGrid<T> {
  let columns = options.columns;
  let rows: T[] = [];
  let selected: string | null = null;
  // Until the first rows arrive the grid says so, rather than claiming the table is empty.
  let loaded = false;
  const head = h("thead");
  const body = h("tbody");
  const table = h("table", { class: "grid", "aria-label": options.label }, head, body);
  const element = h("div", { class: "grid-scroll" }, table);

  const rowElements = () => [...body.querySelectorAll<HTMLTableRowElement>("tr[data-key]")];

  function render(): void {
    setChildren(head, h("tr", null, columns.map((c) => h("th", { class: c.className, scope: "col" }, c.title))));
    if (rows.length === 0) {
      setChildren(body, h("tr", null, h("td", { class: "grid-empty", colspan: Math.max(columns.length, 1) }, loaded ? options.emptyText : "Loading…")));
      return;
    }
    setChildren(
      body,
      rows.map((row, index) => {
        const key = options.rowKey(row);
        const isSelected = key === selected || (selected === null && index === 0);
        return h(
          "tr",
          {
            "data-key": key,
            tabindex: isSelected ? 0 : -1,
            "aria-selected": key === selected ? "true" : "false",
            onClick: (event: MouseEvent) => {
              // A link inside a cell (an id) goes where it points, not to this row.
              if ((event.target as Element).closest("a")) return;
              select(key);
              options.onOpen(row);
            },
          },
          columns.map((c) => h("td", { class: c.className }, c.cell(row))),
        );
      }),
    );
  }

  function select(key: string | null): void {
    selected = key;
    for (const tr of rowElements()) {
      const on = tr.dataset.key === key;
      tr.setAttribute("aria-selected", on ? "true" : "false");
      tr.tabIndex = on ? 0 : -1;
    }
    if (key === null) rowElements()[0]?.setAttribute("tabindex", "0");
  }

  function move(delta: number): void {
    const trs = rowElements();
    if (trs.length === 0) return;
    const current = trs.findIndex((tr) => tr.dataset.key === selected);
    const next = current === -1 ? 0 : Math.min(Math.max(current + delta, 0), trs.length - 1);
    select(trs[next]!.dataset.key!);
    trs[next]!.focus();
    trs[next]!.scrollIntoView({ block: "nearest" });
  }

  table.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const steps: Record<string, number> = { ArrowDown: 1, j: 1, ArrowUp: -1, k: -1, Home: -Infinity, End: Infinity };
    const step = steps[event.key];
    if (step !== undefined) {
      event.preventDefault();
      move(Number.isFinite(step) ? step : step > 0 ? rows.length : -rows.length);
      return;
    }
    if (event.key === "Enter" && (event.target as Element).matches("tr[data-key]")) {
      const key = (event.target as HTMLElement).dataset.key;
      const row = rows.find((r) => options.rowKey(r) === key);
      if (row !== undefined) {
        event.preventDefault();
        select(key!);
        options.onOpen(row);
      }
    }
  });
  table.addEventListener("focusin", (event) => {
    const tr = (event.target as Element).closest<HTMLTableRowElement>("tr[data-key]");
    if (tr) select(tr.dataset.key!);
  });

  render();
  return {
    element,
    setRows(next, nextColumns) {
      loaded = true;
      rows = next;
      if (nextColumns) columns = nextColumns;
      render();
    },
    select,
    move,
    focus() {
      const trs = rowElements();
      (trs.find((tr) => tr.dataset.key === selected) ?? trs[0])?.focus();
    },
  };
}
