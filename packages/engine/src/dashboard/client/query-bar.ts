import type { JSONValue } from "convex/values";
import type { FieldFilter, TableSchema } from "./admin-client.js";
import { h, setChildren } from "./element-builder.js";

const OP_TEXT: Record<FieldFilter["op"], string> = { eq: "=", neq: "≠", lt: "<", lte: "≤", gt: ">", gte: "≥" };

/** The data view's sort and filter controls. */
export interface QueryBar {
  readonly element: HTMLElement;
  /** The chosen index (undefined: creation time). */
  index(): string | undefined;
  filters(): FieldFilter[];
  /** Offers the table's indexes to sort by, and forgets the filters of the previous table. */
  setTable(table: TableSchema | undefined): void;
}

/**
 * Sort by any index of the table and filter by field: `field op value`,
 * the value read as JSON when it parses (`42`, `true`, `null`, `"text"`) and
 * as text otherwise. The engine runs these as a `withIndex(...).filter(...)`
 * query, so sorting follows indexes, as on Convex.
 */
export function createQueryBar(onChange: () => void): QueryBar {
  let active: FieldFilter[] = [];
  const sort = h("select", { id: "sort-index", class: "input", onChange }, h("option", { value: "by_creation_time" }, "creation time"));
  const field = h("input", { id: "filter-field", class: "input mono", type: "text", placeholder: "field", spellcheck: "false", autocomplete: "off" });
  const op = h("select", { id: "filter-op", class: "input", "aria-label": "Filter operator" }, Object.entries(OP_TEXT).map(([value, text]) => h("option", { value }, text)));
  const value = h("input", {
    id: "filter-value",
    class: "input mono",
    type: "text",
    placeholder: 'value ("ada", 42, true)',
    spellcheck: "false",
    autocomplete: "off",
    onKeydown: (event: KeyboardEvent) => event.key === "Enter" && add(),
  });
  const chips = h("div", { class: "filter-chips", "aria-label": "Active filters" });
  const element = h(
    "div",
    { class: "query-bar" },
    h("label", { class: "field-label inline", for: "sort-index" }, "Sort by"),
    sort,
    h("span", { class: "query-gap" }),
    h("label", { class: "field-label inline", for: "filter-field" }, "Filter"),
    field,
    op,
    h("label", { class: "sr-only", for: "filter-value" }, "Filter value"),
    value,
    h("button", { class: "button", type: "button", onClick: () => add() }, "Add filter"),
    chips,
  );

  function add(): void {
    const name = field.value.trim();
    if (name === "") {
      field.focus();
      return;
    }
    active = [...active, { field: name, op: op.value as FieldFilter["op"], value: parseValue(value.value) }];
    field.value = "";
    value.value = "";
    renderChips();
    onChange();
  }

  function renderChips(): void {
    setChildren(
      chips,
      active.map((f, i) =>
        h(
          "span",
          { class: "chip" },
          h("code", null, `${f.field} ${OP_TEXT[f.op]} ${JSON.stringify(f.value)}`),
          h("button", { class: "chip-remove", type: "button", "aria-label": `Remove filter ${f.field}`, onClick: () => ((active = active.filter((_, j) => j !== i)), renderChips(), onChange()) }, "×"),
        ),
      ),
    );
  }

  return {
    element,
    index: () => (sort.value === "by_creation_time" ? undefined : sort.value),
    filters: () => active,
    setTable(table) {
      active = [];
      renderChips();
      const indexes = (table?.indexes ?? []).filter((i) => !i.builtIn);
      setChildren(
        sort,
        h("option", { value: "by_creation_time" }, "creation time"),
        indexes.map((i) => h("option", { value: i.name }, `${i.fields.slice(0, -2).join(", ")} (${i.name})`)),
      );
    },
  };
}

function parseValue(text: string): JSONValue {
  try {
    return JSON.parse(text) as JSONValue;
  } catch {
    return text;
  }
}
