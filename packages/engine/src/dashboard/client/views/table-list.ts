import type { TableSummary } from "../admin-client.js";
import { formatCount } from "../display-format.js";
import { h, setChildren } from "../element-builder.js";

/**
 * The Data view's list of tables with their document counts: the app's own tables, its
 * system tables, then each component's tables under the component's path (a component's
 * table is named `<component path>/<table>` and listed by its own name).
 */
export function renderTableList(nav: HTMLElement, tables: TableSummary[], current: string | null): void {
  const link = (t: TableSummary) =>
    h(
      "a",
      { class: "table-link", href: `#/data/${encodeURIComponent(t.name)}`, "aria-current": t.name === current ? "page" : null },
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
    nav,
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
