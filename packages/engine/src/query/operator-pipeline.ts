import type { DocumentJson } from "./filter-expression";
import type { CompiledOperator } from "./query-plan";

/**
 * Runs rows through a query's operators strictly in order: each filter sees the documents
 * that reached it, each limit lets its count through and then closes. Documents are parsed
 * only when a filter needs them, and once per row.
 */
export interface OperatorPipeline {
  /** True once a limit has let its full count through: no further row can come out. */
  closed(): boolean;
  /** Sends one document (stored text) through; true when it comes out of the end. */
  accept(text: string): boolean;
}

/** Creates the pipeline state for one execution of `operators`. */
export function createOperatorPipeline(operators: readonly CompiledOperator[]): OperatorPipeline {
  const passed = operators.map(() => 0);
  let closed = operators.some((op) => op.kind === "limit" && op.count === 0);

  return {
    closed: () => closed,
    accept(text) {
      let doc: DocumentJson | null = null;
      for (let i = 0; i < operators.length; i++) {
        const op = operators[i];
        if (op.kind === "filter") {
          doc ??= JSON.parse(text) as DocumentJson;
          if (!op.test(doc)) return false;
        } else {
          passed[i]++;
          if (passed[i] >= op.count) closed = true;
        }
      }
      return true;
    },
  };
}
