import type { Value } from "convex/values";
import { EngineError } from "../errors.js";
import { parseExportJsonLine } from "./export-json.js";

/**
 * Refuses JSON text nested deeper than `maxDepth` (arrays and objects), by a
 * scan that allocates nothing, before any recursive parser sees it: a line of
 * a million `[` must not overflow the stack.
 */
export function checkJsonDepth(text: string, maxDepth: number, where: string): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) {
        throw new EngineError("InvalidImport", `${where} is nested more than ${maxDepth} levels deep.`);
      }
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
}

/**
 * One document from its JSON text, depth-checked first. With `uniform` (a
 * snapshot table's `generated_schema.jsonl` says so) integer literals are
 * int64; otherwise every number is a float64, as Convex reads plain JSON.
 */
export function parseDocumentText(text: string, uniform: boolean, maxDepth: number, where: string): Record<string, Value> {
  checkJsonDepth(text, maxDepth, where);
  try {
    return parseExportJsonLine(text, uniform);
  } catch (e) {
    throw new EngineError("InvalidImport", `${where}: ${(e as Error).message}`);
  }
}
