// The indexes every table has without declaring them. A leaf: the catalog and the schema
// parser both need it.

/** Key fields of the built-in indexes, which every table has. */
export const BUILT_IN_INDEX_FIELDS: Readonly<Record<string, readonly string[]>> = {
  by_id: ["_id"],
  by_creation_time: ["_creationTime", "_id"],
};
