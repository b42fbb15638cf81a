import { IndexRange } from "convex-upstream:server/index_range_builder.js";
import { convexOrUndefinedToJson } from "convex-upstream:values/value.js";

/**
 * Stands in for `convex/dist/esm/server/impl/index_range_builder_impl.js` in the engine's
 * worker threads (`convex-shim-plugin.ts` says how, `SUBSTITUTES` which upstream text it
 * was written against). Same class, same methods, same errors; what differs is the cost
 * of `q.eq(…).eq(…)` (about 5% of a feed re-run with upstream's): upstream copies the
 * expression list at every step (`concat`) and defines fields through esbuild's
 * `__publicField` helper, this one appends to one list the steps share (the first two steps
 * make lists of their exact size instead). Sharing is not observable: a builder that
 * handed its list on is consumed, and every method of a consumed builder throws before
 * touching the list.
 */

type RangeExpression = { type: "Eq" | "Gt" | "Gte" | "Lt" | "Lte"; fieldPath: string; value: unknown };

const REUSED =
  "IndexRangeBuilder has already been used! Chain your method calls like `q => q.eq(...).eq(...)`. See https://docs.convex.dev/using/indexes";

export class IndexRangeBuilderImpl extends IndexRange {
  rangeExpressions: RangeExpression[];
  isConsumed: boolean;

  constructor(rangeExpressions: RangeExpression[]) {
    super();
    this.rangeExpressions = rangeExpressions;
    this.isConsumed = false;
  }

  static new(): IndexRangeBuilderImpl {
    return new IndexRangeBuilderImpl([]);
  }

  consume(): void {
    if (this.isConsumed) throw new Error(REUSED);
    this.isConsumed = true;
  }

  eq(fieldName: string, value: unknown): IndexRangeBuilderImpl {
    return this.with("Eq", fieldName, value);
  }

  gt(fieldName: string, value: unknown): IndexRangeBuilderImpl {
    return this.with("Gt", fieldName, value);
  }

  gte(fieldName: string, value: unknown): IndexRangeBuilderImpl {
    return this.with("Gte", fieldName, value);
  }

  lt(fieldName: string, value: unknown): IndexRangeBuilderImpl {
    return this.with("Lt", fieldName, value);
  }

  lte(fieldName: string, value: unknown): IndexRangeBuilderImpl {
    return this.with("Lte", fieldName, value);
  }

  export(): RangeExpression[] {
    this.consume();
    return this.rangeExpressions;
  }

  private with(type: RangeExpression["type"], fieldPath: string, value: unknown): IndexRangeBuilderImpl {
    this.consume();
    // Converted before the list grows, as upstream: a value `convexToJson` refuses leaves it as it was.
    const json = convexOrUndefinedToJson(value as never);
    const list = this.rangeExpressions;
    const expression: RangeExpression = { type, fieldPath, value: json };
    // The usual one or two steps make lists of their exact size (a push onto `[]` allocates
    // room for 17, per `withIndex` of every `first()`); longer chains append.
    if (list.length === 0) return new IndexRangeBuilderImpl([expression]);
    if (list.length === 1) return new IndexRangeBuilderImpl([list[0]!, expression]);
    list.push(expression);
    return new IndexRangeBuilderImpl(list);
  }
}
