import type { ConvexDocument } from "../admin-client.js";
import type { GridColumn } from "../data-grid.js";
import { h } from "../element-builder.js";
import { renderCompact } from "../value-view.js";

/** Columns for a page of documents: `_id` first, fields in first-seen order, `_creationTime` last. */
export function documentColumns(documents: ConvexDocument[]): GridColumn<ConvexDocument>[] {
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
