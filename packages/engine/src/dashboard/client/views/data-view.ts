import type { ConvexDocument, TableSchema, TableSummary } from "../admin-client.js";
import { createDataGrid } from "../data-grid.js";
import { formatCount } from "../display-format.js";
import { createDocumentEditor } from "../document-editor.js";
import { createDocumentPanel, placeholderPanel } from "../document-panel.js";
import { h, setChildren } from "../element-builder.js";
import { touches } from "../live-updates.js";
import { createPageControls } from "../page-controls.js";
import { createQueryBar } from "../query-bar.js";
import { listKeys } from "../table-pane.js";
import { argsTemplate } from "../validator-text.js";
import { errorText, type ViewFactory } from "../view.js";
import { createConfirmBar } from "./confirm-bar.js";
import { documentColumns } from "./document-columns.js";
import { createGoToIdBox } from "./go-to-id.js";
import { renderTableList as renderTables } from "./table-list.js";

const PAGE_SIZE = 50;

/**
 * Data: the tables with their document counts, a table's documents a page
 * at a time (newest first unless asked otherwise, sorted by any index,
 * filtered by field), a document in full; add, edit and delete documents
 * (the engine validates them against the schema). Everything follows the
 * data live. Route: `#/data/<table>/<document id>`.
 */
export const dataView: ViewFactory = (context, initial) => {
  const { api } = context;
  let tables: TableSummary[] = [];
  let schemas: TableSchema[] = [];
  let table: string | null = null;
  let openId: string | null = null;
  let editing: "new" | "edit" | null = null;
  // While a delete waits for confirmation, live updates leave the panel alone (a re-render would drop the question).
  let confirming = false;
  let order: "asc" | "desc" = "desc";
  let loads = 0;

  const tableList = h("nav", { class: "table-list", "aria-label": "Tables" });
  const title = h("h1", null, "Data");
  const subtitle = h("span", { class: "view-subtitle" });
  const orderButton = h("button", { class: "button", type: "button", onClick: () => toggleOrder() });
  const goTo = createGoToIdBox(api, (hash) => context.navigate(hash));
  const addButton = h("button", { class: "button primary", type: "button", onClick: () => startEditing("new") }, "Add document");
  const refreshButton = h("button", { class: "button", type: "button", title: "Reload (r)", onClick: () => void reload() }, "Refresh");
  const queryBar = createQueryBar(() => {
    pager.reset();
    renderHeader();
    void loadPage();
  });
  const grid = createDataGrid<ConvexDocument>({
    label: "Documents",
    columns: [],
    rowKey: (doc) => doc._id,
    onOpen: (doc) => context.navigate(`#/data/${encodeURIComponent(table!)}/${encodeURIComponent(doc._id)}`),
    emptyText: "No documents.",
  });
  const pager = createPageControls(PAGE_SIZE, () => void loadPage());
  const panelSlot = h("div", { class: "panel-slot" });
  const pane = h(
    "section",
    { class: "table-pane" },
    h(
      "header",
      { class: "view-header" },
      h("div", { class: "view-heading" }, title, subtitle),
      h("div", { class: "view-actions" }, goTo.element, addButton, orderButton, refreshButton),
    ),
    queryBar.element,
    grid.element,
    pager.element,
  );
  const element = h("div", { class: "view data-view" }, tableList, pane, panelSlot);

  function renderTableList(): void {
    renderTables(tableList, tables, table);
  }

  function renderHeader(): void {
    const summary = tables.find((t) => t.name === table);
    setChildren(title, table ?? "Data");
    setChildren(subtitle, summary ? `${formatCount(summary.documents)} ${summary.documents === 1 ? "document" : "documents"}` : "");
    // By creation time the order reads as age; by another index, as the index's own order.
    const byIndex = queryBar.index() !== undefined;
    setChildren(orderButton, order === "desc" ? (byIndex ? "Descending ↓" : "Newest first ↓") : byIndex ? "Ascending ↑" : "Oldest first ↑");
    orderButton.title = "Change the order";
    addButton.hidden = table === null || table.startsWith("_");
  }

  /** Tables, counts and indexes, then the current page; what a commit or a push can change. */
  async function reload(): Promise<void> {
    try {
      [tables, { tables: schemas }] = await Promise.all([api.tables(), api.schema()]);
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
    const filters = queryBar.filters();
    try {
      const page = await api.documents(table, { cursor: pager.cursor, order, limit: PAGE_SIZE, index: queryBar.index(), filters });
      if (load !== loads) return;
      grid.setRows(page.documents, documentColumns(page.documents));
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

  const closePanel = () => context.navigate(`#/data/${encodeURIComponent(table!)}`);

  async function showDocument(id: string | null): Promise<void> {
    if (id !== openId) confirming = false;
    openId = id;
    editing = null;
    grid.select(id);
    element.classList.toggle("with-panel", id !== null);
    if (id === null) {
      setChildren(panelSlot);
      return;
    }
    if (panelSlot.childElementCount === 0) setChildren(panelSlot, placeholderPanel("Loading…", closePanel));
    try {
      const found = await api.document(id);
      // A delete question open meanwhile stays: re-rendering the panel would drop it.
      if (openId !== id || editing !== null || confirming) return;
      const userTable = !found.table.startsWith("_");
      const actions = userTable
        ? [
            h("button", { class: "button", type: "button", onClick: () => startEditing("edit", found.document) }, "Edit"),
            h("button", { class: "button danger", type: "button", onClick: () => confirmDelete(id) }, "Delete"),
          ]
        : null;
      setChildren(panelSlot, createDocumentPanel({ title: found.table, id, document: found.document, onClose: closePanel, notify: context.notify, actions }));
    } catch (e) {
      // Deleted (here or elsewhere): the panel says so rather than showing stale fields.
      if (openId === id) setChildren(panelSlot, placeholderPanel(errorText(e), closePanel));
    }
  }

  function startEditing(mode: "new" | "edit", document?: ConvexDocument): void {
    if (table === null) return;
    editing = mode;
    element.classList.add("with-panel");
    const current = table;
    const schema = schemas.find((s) => s.name === current);
    const template = schema?.documentType ? (JSON.parse(argsTemplate(schema.documentType)) as ConvexDocument) : ({} as ConvexDocument);
    setChildren(
      panelSlot,
      createDocumentEditor({
        title: mode === "new" ? `New document in ${current}` : `Edit ${document!._id}`,
        fields: mode === "new" ? template : document!,
        saveLabel: mode === "new" ? "Add document" : "Save",
        save: async (fields) => {
          if (mode === "new") {
            const id = await api.insertDocument(current, fields);
            context.notify(`Added ${id}.`, "success");
            context.navigate(`#/data/${encodeURIComponent(current)}/${encodeURIComponent(id)}`);
          } else {
            await api.replaceDocument(document!._id, fields);
            context.notify("Saved.", "success");
          }
          editing = null;
          void showDocument(mode === "new" ? openId : document!._id);
        },
        onClose: () => {
          editing = null;
          if (openId !== null) void showDocument(openId);
          else {
            element.classList.remove("with-panel");
            setChildren(panelSlot);
          }
        },
      }),
    );
  }

  function confirmDelete(id: string): void {
    confirming = true;
    const bar = createConfirmBar({
      question: "Delete this document?",
      text: "Delete this document? This cannot be undone.",
      confirmLabel: "Delete document",
      onConfirm: async () => {
        try {
          await api.deleteDocuments([id]);
          context.notify(`Deleted ${id}.`, "success");
          closePanel();
        } catch (e) {
          context.notify(errorText(e), "error");
        }
      },
      onCancel: () => (confirming = false),
    });
    panelSlot.querySelector(".panel-header")?.after(bar);
  }

  function update(params: string[]): void {
    const [nextTable = null, nextId = null] = params;
    goTo.clearError();
    if (nextTable !== table) {
      table = nextTable;
      pager.reset();
      queryBar.setTable(schemas.find((s) => s.name === table));
      if (table === null) {
        void reload();
      } else {
        renderTableList();
        renderHeader();
        void loadPage();
      }
    }
    if (nextId !== openId || editing !== null) void showDocument(nextId);
  }

  // Counts and the shown page follow commits; the open document too, unless it is being edited.
  const unsubscribe = context.live.onTables((changed) => {
    void api.tables().then((fresh) => {
      tables = fresh;
      renderTableList();
      renderHeader();
    }, () => undefined);
    if (touches(changed, "*")) void api.schema().then((s) => (schemas = s.tables), () => undefined);
    if (table !== null && touches(changed, table)) {
      void loadPage();
      if (openId !== null && editing === null && !confirming) void showDocument(openId);
    }
  });

  table = initial[0] ?? null;
  void reload().then(() => queryBar.setTable(schemas.find((s) => s.name === table)));
  if (initial[1] !== undefined) void showDocument(initial[1]);
  return {
    element,
    update,
    refresh: () => void reload(),
    onKey: listKeys(() => openId !== null || editing !== null, () => (editing === "new" && openId === null ? startEditingClosed() : closePanel()), grid),
    dispose: unsubscribe,
  };

  function startEditingClosed(): void {
    editing = null;
    element.classList.remove("with-panel");
    setChildren(panelSlot);
  }
};
