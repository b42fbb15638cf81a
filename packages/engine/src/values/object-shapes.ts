import type { JSONValue } from "convex/values";
import { isConvexFieldName } from "./field-name-rule.js";

/**
 * The shapes of the objects a query worker's results are made of, for the result encoding
 * (`result-json.ts`, `result-encoder.ts`; runs on the query worker threads, and on the main
 * thread in tests). A result repeats a few shapes (every post of a feed has the same keys in
 * the same order), so what is worked out per shape (names checked, upstream's order, what a
 * validator makes of it) is kept with the last few shapes seen.
 */

/**
 * Recent object shapes: an object's keys as `Object.keys` gives them, and the same in
 * upstream's order (the very same array when they are in order already).
 */
export interface Shape {
  keys: string[];
  order: string[];
  /**
   * Whether `JSON.stringify` writes these keys as it writes upstream's copy of the object:
   * the keys upstream inserts in sorted order, which V8 then lists array indices first,
   * in numeric order (as `Object.keys` lists them here), and the other names in order.
   */
  printsInOrder: boolean;
  /**
   * Whether one of the keys is `__proto__`: an own field of that name (from `JSON.parse`, a
   * computed key) that upstream's copy does not have, as its assignment sets the copy's
   * prototype instead. Such an object never prints in order.
   */
  protoKey: boolean;
  /** What object validators made of this shape (`result-encoder.ts`), one entry per validator met with it (usually one). */
  plans: { validator: object; plan: object }[];
  /** How many copies `result-encoder.ts` made of objects of this shape, and the copier it compiled once they were enough. */
  copies: number;
  copier?: (values: JSONValue[]) => Record<string, JSONValue>;
  /**
   * The texts `result-encoder.ts` made of objects of this shape, by their fields' values
   * (null once it found that they hardly repeat); made on the shape's first use there.
   */
  texts?: object | null;
}
const SHAPES = 16;
const shapes: Shape[] = [];
let nextShape = 0;

/**
 * `object`'s shape: its keys, and the same in upstream's order (sorted by UTF-16 code
 * units); null when one of them is a field name upstream refuses. A result repeats a few shapes (every post of a
 * feed has the same keys in the same order), so the last few shapes are kept with their
 * order, their names already checked: a hit costs one pointer comparison per key (object
 * keys are interned strings), where checking names and sorting cost ~5% of a feed run.
 */
export function shapeOf(object: object): Shape | null {
  const keys = Object.keys(object);
  for (let s = 0; s < shapes.length; s++) {
    const shape = shapes[s]!;
    if (shape.keys.length === keys.length && sameKeys(shape.keys, keys)) return shape;
  }
  let inOrder = true;
  let printsInOrder = true;
  let previousName: string | null = null;
  let protoKey = false;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (!isConvexFieldName(key)) return null;
    if (key === "__proto__") protoKey = true;
    if (i > 0 && keys[i - 1]! > key) inOrder = false;
    if (!isArrayIndex(key)) {
      if (previousName !== null && previousName > key) printsInOrder = false;
      previousName = key;
    }
  }
  const shape: Shape = { keys, order: inOrder ? keys : [...keys].sort(), printsInOrder: printsInOrder && !protoKey, protoKey, plans: [], copies: 0 };
  shapes[nextShape] = shape;
  nextShape = (nextShape + 1) % SHAPES;
  return shape;
}

/** Whether V8 keeps `key` among an object's array indices (a canonical integer below 2^32 - 1). */
export function isArrayIndex(key: string): boolean {
  const first = key.charCodeAt(0);
  if (first < 48 || first > 57 || (first === 48 && key.length > 1) || key.length > 10) return false;
  for (let i = 1; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return Number(key) < 4294967295;
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
