import type { ConvexDocument, TableSummary } from "../admin-client.js";
import { createDataGrid, type GridColumn } from "../data-grid.js";
import { formatCount } from "../display-format.js";
import { createDocumentPanel, placeholderPanel } from "../document-panel.js";
import { h, setChildren } from "../element-builder.js";
import { createPageControls } from "../page-controls.js";
import { listKeys } from "../table-pane.js";
import { renderCompact } from "../value-view.js";
import { errorText, type ViewFactory } from "../view.js";

const PAGE_SIZE = 50;

/**
 * Data: the tables with their document counts, a table's documents a page
 * at a time (newest first unless asked otherwise), a document in full.
 * Route: `#/data/<table>/<document id>`.
 */
export const dataView: ViewFactory = (context, initial) => {
  const { api } = context;
  let tables: TableSummary[] = [];
  let table: string | null = null;
  let openId: string | null = null;
  let order: "asc" | "desc" = "desc";
  let loads = 0;

  const tableList = h("nav", { class: "table-list", "aria-label": "Tables" });
  const title = h("h1", null, "Data");
  const subtitle = h("span", { class: "view-subtitle" });
  const orderButton = h("button", { class: "button", type: "button", onClick: () => toggleOrder() });
  const goTo = h("input", {
    class: "input mono",
    type: "search",
    placeholder: "Go to id…",
    "aria-label": "Go to a document by id",
    "data-shortcut": "search",
    onKeydown: (event: KeyboardEvent) => {
      const id = goTo.value.trim();
      if (event.key === "Enter" && id !== "") context.navigate(`#/id/${encodeURIComponent(id)}`);
    },
  });
  const refreshButton = h("button", { class: "button", type: "button", title: "Reload (r)", onClick: () => void reload() }, "Refresh");
  const grid = createDataGrid<ConvexDocument>({
    label: "Documents",
    columns: [],
    rowKey: (doc) => doc._id,
    onOpen: (doc) => context.navigate(`#/data/${encodeURIComponent(table!)}/${encodeURIComponent(doc._id)}`),
    emptyText: "This table has no documents.",
  });
  const pager = createPageControls(PAGE_SIZE, () => void loadPage());
  const panelSlot = h("div", { class: "panel-slot" });
  const pane = h(
    "section",
    { class: "table-pane" },
    h("header", { class: "view-header" }, h("div", { class: "view-heading" }, title, subtitle), h("div", { class: "view-actions" }, goTo, orderButton, refreshButton)),
    grid.element,
    pager.element,
  );
  const element = h("div", { class: "view data-view" }, tableList, pane, panelSlot);

  function renderTableList(): void {
    // A component's tables are `<component path>/<table>`: listed under the component, by their own names.
    const link = (t: TableSummary) =>
      h(
        "a",
        { class: "table-link", href: `#/data/${encodeURIComponent(t.name)}`, "aria-current": t.name === table ? "page" : null },
        h("span", { class: "table-name" }, t.name.slice(t.name.lastIndexOf("/") + 1)),
        h("span", { class: "count" }, formatCount(t.documents)),
      );
    const componentOf = (name: string) => name.slice(0, Math.max(name.lastIndexOf("/"), 0));
    const isSystem = (name: string) => name.charAt(name.lastIndexOf("/") + 1) === "_";
    const app = tables.filter((t) => componentOf(t.name) === "");
    const user = app.filter((t) => !isSystem(t.name));
    const system = app.filter((t) => isSystem(t.name));
    const components = [...new Set(tables.map((t) => componentOf(t.name)).filter((c) => c !== ""))].sort();
    setChildren(
      tableList,
      h("h2", { class: "list-heading" }, "Tables"),
      user.length === 0 ? h("p", { class: "muted small" }, "No tables yet.") : user.map(link),
      system.length > 0 ? [h("h2", { class: "list-heading" }, "System"), system.map(link)] : null,
      components.map((component) => {
        const own = tables.filter((t) => componentOf(t.name) === component);
        return [
          h("h2", { class: "list-heading", title: "A component's tables" }, `Component ${component}`),
          [...own.filter((t) => !isSystem(t.name)), ...own.filter((t) => isSystem(t.name))].map(link),
        ];
      }),
    );
  }

  function renderHeader(): void {
    const summary = tables.find((t) => t.name === table);
    setChildren(title, table ?? "Data");
    setChildren(subtitle, summary ? `${formatCount(summary.documents)} ${summary.documents === 1 ? "document" : "documents"}` : "");
    setChildren(orderButton, order === "desc" ? "Newest first ↓" : "Oldest first ↑");
    orderButton.title = "Change the order (by creation time)";
  }

  async function reload(): Promise<void> {
    try {
      tables = await api.tables();
    } catch (e) {
      context.notify(errorText(e), "error");
      return;
    }
    if (table === null) {
      const first = tables.find((t) => !t.name.startsWith("_") && !t.name.includes("/")) ?? tables[0];
      if (first !== undefined) {
        context.navigate(`#/data/${encodeURIComponent(first.name)}`, true);
        return;
      }
    }
    renderTableList();
    renderHeader();
    await loadPage();
  }

  async function loadPage(): Promise<void> {
    if (table === null) {
      grid.setRows([], []);
      pager.loaded(0, null, 0);
      return;
    }
    const load = ++loads;
    try {
      const page = await api.documents(table, { cursor: pager.cursor, order, limit: PAGE_SIZE });
      if (load !== loads) return;
      grid.setRows(page.documents, columnsFor(page.documents));
      grid.select(openId);
      pager.loaded(page.documents.length, page.nextCursor, page.total);
    } catch (e) {
      if (load === loads) context.notify(errorText(e), "error");
    }
  }

  function toggleOrder(): void {
    order = order === "desc" ? "asc" : "desc";
    pager.reset();
    renderHeader();
    void loadPage();
  }

  async function showDocument(id: string | null): Promise<void> {
    openId = id;
    grid.select(id);
    element.classList.toggle("with-panel", id !== null);
    const close = () => context.navigate(`#/data/${encodeURIComponent(table!)}`);
    if (id === null) {
      setChildren(panelSlot);
      return;
    }
    setChildren(panelSlot, placeholderPanel("Loading…", close));
    try {
      const found = await api.document(id);
      if (openId !== id) return;
      setChildren(panelSlot, createDocumentPanel({ title: found.table, id, document: found.document, onClose: close, notify: context.notify }));
    } catch (e) {
      if (openId === id) setChildren(panelSlot, placeholderPanel(errorText(e), close));
    }
  }

  function update(params: string[]): void {
    const [nextTable = null, nextId = null] = params;
    if (nextTable !== table) {
      table = nextTable;
      pager.reset();
      if (table === null) {
        void reload();
      } else {
        renderTableList();
        renderHeader();
        void loadPage();
      }
    }
    if (nextId !== openId) void showDocument(nextId);
  }

  table = initial[0] ?? null;
  void reload();
  if (initial[1] !== undefined) void showDocument(initial[1]);
  return {
    element,
    update,
    refresh: () => void reload(),
    onKey: listKeys(() => openId !== null, () => context.navigate(`#/data/${encodeURIComponent(table!)}`), grid),
  };
};

/** Columns for a page: `_id` first, fields in first-seen order, `_creationTime` last. */
function columnsFor(documents: ConvexDocument[]): GridColumn<ConvexDocument>[] {
  const names = new Set<string>(["_id"]);
  for (const doc of documents) for (const name of Object.keys(doc)) if (name !== "_creationTime") names.add(name);
  names.add("_creationTime");
  return [...names].map((name) => ({
    title: name,
    className: name === "_id" ? "mono id-cell" : undefined,
    // A row's own id opens the row; ids of other documents are links.
    cell: (doc: ConvexDocument) =>
      name === "_id" ? doc._id : name in doc ? renderCompact(doc[name]!, name) : h("span", { class: "missing-field" }, "—"),
  }));
}
