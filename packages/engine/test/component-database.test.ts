import { beforeEach, describe, expect, test } from "vitest";
import { componentDatabase } from "../src/components/component-database";
import { createRuntimeDatabase } from "../src/runtime/database-adapter";
import type { RuntimeDatabase } from "../src/runtime/runtime-database";
import { openTestStore } from "./helpers/temp-store";

/**
 * Which ids a component may read, by the store name of their table: its own tables only,
 * also when another component's path starts with the same letters or nests inside it.
 */
describe("a component's view of ids", () => {
  const tables = ["work", "probe/work", "proba/work", "probex/work", "probe/sub/work", "x/probe/work"];
  let base: RuntimeDatabase;
  const ids = new Map<string, string>();

  beforeEach(() => {
    const { store } = openTestStore();
    store.begin();
    for (const table of tables) ids.set(table, store.insert(table, { table }));
    store.commit();
    base = createRuntimeDatabase(store);
  });

  const views: [string, string[], string[]][] = [
    // component, the store tables it owns, their names as it knows them
    ["", ["work"], ["work"]],
    ["probe", ["probe/work"], ["work"]],
    ["probe/sub", ["probe/sub/work"], ["work"]],
    ["probex", ["probex/work"], ["work"]],
  ];

  test.each(views)("component %j reads its own tables' ids and no other's", (component, owned, names) => {
    const db = componentDatabase(base, component);
    const reads = db.newReads();
    for (const table of tables) {
      const id = ids.get(table)!;
      const own = owned.indexOf(table);
      expect(db.tableOfId(id)).toBe(own === -1 ? null : names[own]);
      expect(db.get(id, reads) === null).toBe(own === -1);
      if (own !== -1) expect(JSON.parse(db.get(id, reads)!).table).toBe(table);
    }
  });
});
