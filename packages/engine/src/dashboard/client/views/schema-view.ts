import type { SchemaOverview, TableSchema } from "../admin-client.js";
import { h, setChildren } from "../element-builder.js";
import { validatorText } from "../validator-text.js";
import { errorText, type ViewFactory } from "../view.js";

/**
 * Schema: every table with the document type `schema.ts` gives it and its
 * indexes (fields in key order, the implicit `_creationTime` and `_id`
 * included), as the engine applied them; follows pushes live.
 * Route: `#/schema/<table>` scrolls to that table.
 */
export const schemaView: ViewFactory = (context, initial) => {
  const { api } = context;
  let wanted: string | null = initial[0] ?? null;
  const subtitle = h("span", { class: "view-subtitle" });
  const list = h("div", { class: "schema-list" });
  const element = h(
    "div",
    { class: "view schema-view" },
    h(
      "section",
      { class: "table-pane narrow" },
      h("header", { class: "view-header" }, h("div", { class: "view-heading" }, h("h1", null, "Schema"), subtitle)),
      list,
    ),
  );

  function render(overview: SchemaOverview): void {
    setChildren(
      subtitle,
      !overview.hasSchema ? "no schema.ts: documents are not validated" : overview.schemaValidation ? "documents are validated on every write" : "schemaValidation: false (types only)",
    );
    setChildren(list, overview.tables.length === 0 ? h("p", { class: "muted" }, "No tables yet.") : overview.tables.map(tableCard));
    if (wanted !== null) list.querySelector<HTMLElement>(`[data-table="${CSS.escape(wanted)}"]`)?.scrollIntoView({ block: "start" });
  }

  function tableCard(table: TableSchema): HTMLElement {
    const userIndexes = table.indexes.filter((i) => !i.builtIn);
    return h(
      "article",
      { class: "schema-card", "data-table": table.name, "aria-label": `Table ${table.name}` },
      h(
        "header",
        { class: "schema-card-head" },
        h("h2", { class: "mono" }, h("a", { href: `#/data/${encodeURIComponent(table.name)}` }, table.name)),
        table.inSchema ? null : h("span", { class: "badge" }, table.name.startsWith("_") ? "system" : "not in schema.ts"),
      ),
      h("h3", { class: "section-label" }, "Documents"),
      h("pre", { class: "value-view schema-type" }, table.documentType === null ? "any" : validatorText(table.documentType)),
      h("h3", { class: "section-label" }, `Indexes (${userIndexes.length} declared, 2 built in)`),
      h(
        "table",
        { class: "grid indexes", "aria-label": `Indexes of ${table.name}` },
        h("thead", null, h("tr", null, h("th", { scope: "col" }, "Index"), h("th", { scope: "col" }, "Fields"))),
        h(
          "tbody",
          null,
          table.indexes.map((index) =>
            h(
              "tr",
              { "data-index": index.name },
              h("td", { class: "mono" }, index.name, index.builtIn ? h("span", { class: "tag" }, "built in") : null),
              h("td", { class: "mono" }, index.fields.join(", ")),
            ),
          ),
        ),
      ),
    );
  }

  async function load(): Promise<void> {
    try {
      render(await api.schema());
    } catch (e) {
      context.notify(errorText(e), "error");
    }
  }

  // A push applies a new schema; new tables appear with their first document.
  const unsubscribe = context.live.onTables(() => void load());
  void load();
  return {
    element,
    update(params) {
      wanted = params[0] ?? null;
      void load();
    },
    refresh: () => void load(),
    dispose: unsubscribe,
  };
};
