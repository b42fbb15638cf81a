import type { JSONValue, Value, ValidatorJSON } from "convex/values";
import { tableNumberOfId } from "./document-id.js";
import { isConvexFieldName } from "./field-name-rule.js";
import { decodeMaybeValue } from "./maybe-value.js";
import { isArrayIndex, shapeOf, type Shape } from "./object-shapes.js";
import { resultText } from "./result-json.js";
import type { ValidationContext } from "./validator.js";
import { MAX_ARRAY_LENGTH, MAX_OBJECT_FIELDS, MAX_RESULT_SIZE, MAX_VALUE_NESTING } from "./value-limits.js";

/**
 * A query's result encoded and checked in one walk (the query workers' `Convex.encodeResult`,
 * `worker-syscall-global.ts`; on the worker thread, synchronously as the function's wrapper
 * returns, so nothing else can change the value meanwhile).
 *
 * The usual way walks a result four times after the function returns: `resultText` (order
 * check, sorted copy), `JSON.stringify`, `checkResultLimits` (Convex's size and nesting
 * limits) and `checkReturns` (the `returns` validator, compiled by `validator-check.ts`).
 * Here the returns validator is compiled into an encoder instead: one walk that makes the
 * same JSON value as `resultText` (the value itself where it is Convex JSON in upstream's
 * key order, else a copy) while it checks the validator and the nesting, array and field
 * limits; the size limit and the strings' Unicode are read off the text afterwards (see
 * `PROVEN_TEXT_LENGTH`). Hand-written because no library walks a value by a Convex validator.
 *
 * It only proves: anything it does not prove (a mismatch, a limit reached, a value
 * upstream must encode or refuse: bigints, bytes, special floats, `undefined` in an array,
 * class instances, odd field names) makes it give up, and the caller takes the usual way
 * from the start, whose errors (upstream's, Convex's limits, the validator's message) are
 * the ones thrown. So it accepts nothing the validator's compiled check
 * (`validator-check.ts` `jsonCheck`) would not accept on the same JSON, and validators that
 * check does not compile (`v.record`, `v.bytes`, `v.int64`, …) leave the validation to
 * `checkReturns` as before (`ResultEncoder.validates` false).
 *
 * One difference from the usual way: a getter in a returned object may be read once more
 * (by this walk, before the usual way reads it again when the walk gives up).
 */

/** A compiled result encoder for one `returns` validator (or none), see `resultEncoder`. */
export interface ResultEncoder {
  /** `value`'s JSON (or its text, `Built`) when the walk proves it; `UNSURE` otherwise. `depth`: the containers around it. */
  encode: NodeEncoder;
  /** Whether a JSON value `encode` gives satisfies the `returns` validator (false: `checkReturns` still decides). */
  validates: boolean;
}

/**
 * What a function's result must pass (Convex's limits, its `returns` validator): the walk
 * that encodes it proving what it can, and the usual checks for the rest.
 */
export interface ResultChecks {
  /** `resultEncoder` of the function's `returns` validator. */
  encoder: ResultEncoder;
  /** Throws when `json` is beyond Convex's limits for a return value (`checkResultLimits`). */
  limits(json: JSONValue): void;
  /** Throws when `json` does not satisfy the `returns` validator (`checkReturns`). */
  returns(json: JSONValue): void;
}

/**
 * `result`'s text as upstream writes it (`JSON.stringify(convexToJson(result))`, `upstream`
 * being `convexToJson`, whose errors for what it refuses are thrown as they are), and what
 * its checks threw (undefined if they passed): the same as `resultText` followed by
 * `checks.limits` and `checks.returns` on its JSON value, with only what the walk of
 * `checks.encoder` did not prove checked the usual way.
 */
export function checkedResultText(result: Value, upstream: (value: Value) => JSONValue, checks: ResultChecks): { text: string; failure: unknown } {
  let text: string;
  // Texts of objects are kept only where the walk proves the validator, and where
  // `JSON.stringify` would call no `toJSON` of a prototype (see `Built`).
  textsKept = checks.encoder.validates && !("toJSON" in Object.prototype) && !("toJSON" in Array.prototype);
  let encoded: Encoded = checks.encoder.encode(result, 0);
  let json: JSONValue | typeof UNSURE;
  let limitsChecked = false;
  let returnsChecked = false;
  if (encoded !== UNSURE) {
    text = encoded instanceof Built ? encoded.text : JSON.stringify(encoded);
    limitsChecked = text.length <= PROVEN_TEXT_LENGTH && !text.includes("\\ud");
    returnsChecked = checks.encoder.validates;
    // A result made of kept texts has no JSON value of its own: the usual checks that
    // remain (a long text, a lone surrogate) take upstream's, which prints as `text`.
    json = encoded instanceof Built ? (limitsChecked && returnsChecked ? null : resultText(result, upstream).json) : encoded;
  } else {
    const usual = resultText(result, upstream);
    text = usual.text;
    json = usual.json;
  }
  try {
    if (!limitsChecked) checks.limits(json);
    if (!returnsChecked) checks.returns(json);
  } catch (e) {
    return { text, failure: e };
  }
  return { text, failure: undefined };
}

/**
 * Convex's size of a JSON value is at most 9 times the length of its text: a number's 9
 * against at least one character, a string's 2 + UTF-8 bytes (at most 3 per UTF-16 unit)
 * against its quotes and at least one character per unit, a field's name + 1 against the
 * name, its quotes and a colon, 2 per array or object against its brackets. So a text this
 * short is within `MAX_RESULT_SIZE`. `JSON.stringify` writes a lone surrogate (which
 * Convex refuses) as `\udXXX`: a text without `\ud` has none (one with it may, or may hold
 * an escaped backslash before "ud": the exact check then decides).
 */
const PROVEN_TEXT_LENGTH = Math.floor(MAX_RESULT_SIZE / 9);

/** What an encoder gives for anything it does not prove. */
export const UNSURE: unique symbol = Symbol("unsure");
type Encoded = JSONValue | Built | typeof UNSURE;

/**
 * The JSON text of an object or array the walk proved, where the text was made here
 * rather than by one `JSON.stringify` of the whole result: an object whose fields'
 * values (a nested object's or array's by its text) are those of an object of the same
 * shape met before gets that object's text, kept with the shape (`Shape.texts`), and its
 * container is then written around the texts. A feed's thousand re-runs after one commit
 * return the same posts, each in a few versions (the viewer's like and bookmark), by the
 * same authors: their texts are made once, where `JSON.stringify` of each result was ~13%
 * of the query worker's time per run. Texts are exact: a text is a function of the
 * object's shape (its keys, printed in the order upstream's copy prints them) and its
 * fields' values, compared with `===` (strings by their characters; numbers here are
 * never NaN or -0). Made only where `JSON.stringify` calls no `toJSON` (none on
 * `Object.prototype` or `Array.prototype`; the walk's objects are plain, its values JSON).
 * Hand-written: no library keys JSON texts by the values they print.
 */
class Built {
  constructor(
    readonly text: string,
    /** The fields' encodings the text was made of, in `Shape.order` (null: not kept). */
    readonly values: readonly unknown[] | null,
  ) {}
}

/** Whether this walk keeps and reuses texts (set by `checkedResultText` for each walk; this thread's). */
let textsKept = false;

/** The texts kept for one shape: by the first string among an object's fields (its id, as a rule), the last few versions. */
interface ShapeTexts {
  /** Null once the shape's objects were found to hardly repeat: their texts are then made, not kept. */
  byKey: Map<unknown, Built[]> | null;
  lookups: number;
  hits: number;
  /** Characters of the texts kept (bounded by `KEPT_CHARS_PER_SHAPE`). */
  chars: number;
  /** Per key of `Shape.order`, its JSON text and a colon; the keys' print order (indices into `order`). */
  names: string[];
  printOrder: number[];
}

/** Versions kept per key (a feed post: liked or not, bookmarked or not). */
const VERSIONS_PER_KEY = 4;
/** Characters kept per shape before its texts start over (16 recent shapes: at most ~16 MB a thread). */
const KEPT_CHARS_PER_SHAPE = 1 << 20;
/** Objects whose text is longer are not kept (their text is made as usual). */
const MAX_KEPT_TEXT = 4_096;
/** A shape whose objects hit less than a quarter of the time after this many is left to the usual way. */
const TRIAL_LOOKUPS = 256;

function textsOf(shape: Shape): ShapeTexts {
  let texts = shape.texts as ShapeTexts | undefined;
  if (texts === undefined) {
    const order = shape.order;
    const indices = order.map((_, k) => k);
    // Upstream's copy is made in `order`; V8 prints its array-index keys first, in numeric order.
    const printOrder = [
      ...indices.filter((k) => isArrayIndex(order[k]!)).sort((a, b) => Number(order[a]) - Number(order[b])),
      ...indices.filter((k) => !isArrayIndex(order[k]!)),
    ];
    texts = { byKey: new Map(), lookups: 0, hits: 0, chars: 0, names: order.map((key) => `${JSON.stringify(key)}:`), printOrder };
    shape.texts = texts;
  }
  return texts;
}

/** The kept text of an object of `shape` whose fields' encodings are `values` (the first `n`), or null. */
function keptText(texts: ShapeTexts, values: readonly unknown[], n: number): Built | null {
  texts.lookups++;
  const versions = texts.byKey!.get(keyOf(values, n));
  if (versions !== undefined) {
    for (let i = 0; i < versions.length; i++) {
      const kept = versions[i]!;
      if (sameValues(kept.values!, values, n)) {
        texts.hits++;
        return kept;
      }
    }
  }
  return null;
}

/** Keeps `text` for an object of the shape whose fields' encodings are `values` (the first `n`). */
function keep(texts: ShapeTexts, values: readonly unknown[], n: number, text: string): Built {
  if (text.length > MAX_KEPT_TEXT || !keepable(values, n)) return new Built(text, null);
  // Flat once here (a concatenation is a rope until read), not in every result that uses it.
  text.charCodeAt(0);
  const built = new Built(text, values.slice(0, n));
  const key = keyOf(values, n);
  const byKey = texts.byKey!;
  if ((texts.chars += text.length) > KEPT_CHARS_PER_SHAPE) {
    byKey.clear();
    texts.chars = text.length;
  }
  let versions = byKey.get(key);
  if (versions === undefined) byKey.set(key, (versions = []));
  if (versions.length >= VERSIONS_PER_KEY) versions.shift();
  versions.push(built);
  if (texts.lookups >= TRIAL_LOOKUPS && texts.hits * 4 < texts.lookups) texts.byKey = null;
  return built;
}

/**
 * Whether the fields are all primitives or made texts: a field holding the user's own object
 * or array (its JSON value as it is, from a shape that keeps no texts) is never compared
 * by identity, as user code may change that object before it returns it again.
 */
function keepable(values: readonly unknown[], n: number): boolean {
  for (let k = 0; k < n; k++) {
    const value = values[k];
    if (typeof value === "object" && value !== null && !(value instanceof Built)) return false;
  }
  return true;
}

/** What texts are kept under: the first string among the fields, else "" (one list for the shape). */
function keyOf(values: readonly unknown[], n: number): unknown {
  for (let k = 0; k < n; k++) if (typeof values[k] === "string") return values[k];
  return "";
}

function sameValues(kept: readonly unknown[], values: readonly unknown[], n: number): boolean {
  for (let k = 0; k < n; k++) {
    const a = kept[k];
    const b = values[k];
    if (a !== b && !(a instanceof Built && b instanceof Built && a.text === b.text)) return false;
  }
  return true;
}

/** The text of an object of `texts`' shape from its fields' encodings (undefined: left out), as `JSON.stringify` prints upstream's copy. */
function objectText(texts: ShapeTexts, values: readonly unknown[]): string {
  const { names, printOrder } = texts;
  let text = "{";
  let first = true;
  for (let i = 0; i < printOrder.length; i++) {
    const k = printOrder[i]!;
    const value = values[k];
    if (value === undefined) continue;
    text += (first ? names[k]! : `,${names[k]!}`) + pieceText(value);
    first = false;
  }
  return `${text}}`;
}

/** The text of one encoding: a made text as it is, a JSON value by `JSON.stringify`. */
function pieceText(encoded: unknown): string {
  return encoded instanceof Built ? encoded.text : JSON.stringify(encoded);
}
type NodeEncoder = (value: unknown, depth: number) => Encoded;

const compiled = new WeakMap<ValidationContext, WeakMap<object, ResultEncoder>>();

/** The encoder for a function's `returns` validator (null: none), compiled once per validator and context. */
export function resultEncoder(validator: ValidatorJSON | null, context: ValidationContext): ResultEncoder {
  if (validator === null) return UNVALIDATED;
  let cache = compiled.get(context);
  if (cache === undefined) compiled.set(context, (cache = new WeakMap()));
  let encoder = cache.get(validator);
  if (encoder === undefined) {
    const encode = compile(validator, context);
    encoder = encode === null ? { encode: anyValue, validates: false } : { encode, validates: true };
    cache.set(validator, encoder);
  }
  return encoder;
}

/** For a function without a `returns` validator: every plain JSON value is valid. */
const UNVALIDATED: ResultEncoder = { encode: anyValue, validates: true };

/** `validator` as an encoder, or null when `jsonCheck` does not compile some part of it either. */
function compile(validator: ValidatorJSON, context: ValidationContext): NodeEncoder | null {
  switch (validator.type) {
    case "any":
      return anyValue;
    case "null":
      return (v) => (v === null ? null : UNSURE);
    case "number":
      // NaN, ±Infinity and -0 are `$float`-tagged in JSON: upstream encodes them.
      return (v) => (typeof v === "number" && isPlainNumber(v) ? v : UNSURE);
    case "boolean":
      return (v) => (typeof v === "boolean" ? v : UNSURE);
    case "string":
      return (v) => (typeof v === "string" ? v : UNSURE);
    case "literal":
      return literalEncoder(validator.value as JSONValue);
    case "id": {
      const table = validator.tableName;
      return (v) => {
        if (typeof v !== "string") return UNSURE;
        const number = tableNumberOfId(v);
        return number !== null && context.tableNameOf(number) === table ? v : UNSURE;
      };
    }
    case "array": {
      const item = compile(validator.value, context);
      return item === null ? null : (v, depth) => (Array.isArray(v) ? encodeArray(v, depth, item) : UNSURE);
    }
    case "object":
      return objectEncoder(validator, context);
    case "union": {
      const members: NodeEncoder[] = [];
      for (const member of validator.value) {
        const encoder = compile(member, context);
        if (encoder === null) return null;
        members.push(encoder);
      }
      if (members.length === 1) return members[0]!;
      return (v, depth) => {
        // Every member that accepts gives the same JSON (a value's JSON does not depend on the validator).
        for (let i = 0; i < members.length; i++) {
          const json = members[i]!(v, depth);
          if (json !== UNSURE) return json;
        }
        return UNSURE;
      };
    }
    default:
      // `bigint`, `bytes`, `record`, `commitTs` and anything newer: `checkReturns` decides.
      return null;
  }
}

function literalEncoder(literalJson: JSONValue): NodeEncoder | null {
  const literal = decodeMaybeValue(literalJson);
  switch (typeof literal) {
    case "string":
    case "boolean":
      return (v) => (v === literal ? literal : UNSURE);
    case "number":
      // A literal -0 or NaN has a `$float` encoding: such values are declined as upstream encodes them.
      return (v) => (typeof v === "number" && isPlainNumber(v) && Object.is(v, literal) ? v : UNSURE);
    default:
      return null;
  }
}

/**
 * What an object validator makes of one shape: per key of `shape.order`, the field's
 * encoder (null: a key the validator does not have, which may only hold `undefined`) and
 * whether it may be absent (`undefined`).
 */
interface ObjectPlan {
  fields: (NodeEncoder | null)[];
  optional: boolean[];
}

function objectEncoder(validator: Extract<ValidatorJSON, { type: "object" }>, context: ValidationContext): NodeEncoder | null {
  const names = Object.keys(validator.value);
  // As `jsonCheck`: names a plain object inherits, or invalid ones, go the slow way.
  if (names.some((name) => !isConvexFieldName(name) || name in Object.prototype)) return null;
  const encoders = new Map<string, NodeEncoder>();
  for (const name of names) {
    const encoder = compile(validator.value[name]!.fieldType, context);
    if (encoder === null) return null;
    encoders.set(name, encoder);
  }
  /** The plan for `shape`, or NO_MATCH when a required field is not among its keys. */
  const planOf = (shape: Shape): ObjectPlan => {
    for (const slot of shape.plans) if (slot.validator === validator) return slot.plan as ObjectPlan;
    const keys = new Set(shape.keys);
    const plan =
      shape.keys.length > MAX_OBJECT_FIELDS || names.some((name) => !validator.value[name]!.optional && !keys.has(name))
        ? NO_MATCH
        : {
            fields: shape.order.map((key) => encoders.get(key) ?? null),
            optional: shape.order.map((key) => !encoders.has(key) || validator.value[key]!.optional),
          };
    shape.plans.push({ validator, plan });
    return plan;
  };
  return (v, depth) => {
    // Plain objects only, as `jsonCheck` (a null prototype goes the slow way).
    if (typeof v !== "object" || v === null || Object.getPrototypeOf(v) !== Object.prototype || depth >= MAX_VALUE_NESTING) return UNSURE;
    const shape = shapeOf(v);
    if (shape === null || shape.protoKey) return UNSURE;
    const plan = planOf(shape);
    return plan === NO_MATCH ? UNSURE : encodeFields(v as Record<string, unknown>, shape, plan, depth + 1);
  };
}

const NO_MATCH: ObjectPlan = { fields: [], optional: [] };

/** Any Convex JSON value, as `resultJson` takes it without upstream (`v.any()`, or no validator). */
function anyValue(v: unknown, depth: number): Encoded {
  switch (typeof v) {
    case "string":
    case "boolean":
      return v;
    case "number":
      return isPlainNumber(v) ? v : UNSURE;
    case "object":
      break;
    default:
      return UNSURE;
  }
  if (v === null) return null;
  if (Array.isArray(v)) return encodeArray(v, depth, anyValue);
  const prototype: unknown = Object.getPrototypeOf(v);
  if ((prototype !== Object.prototype && prototype !== null) || depth >= MAX_VALUE_NESTING) return UNSURE;
  const shape = shapeOf(v);
  if (shape === null || shape.protoKey || shape.keys.length > MAX_OBJECT_FIELDS) return UNSURE;
  return encodeFields(v as Record<string, unknown>, shape, anyPlanOf(shape), depth + 1);
}

/** The key `anyValue`'s plans are kept under in `Shape.plans`. */
const ANY_PLAN_KEY = {};

function anyPlanOf(shape: Shape): ObjectPlan {
  for (const slot of shape.plans) if (slot.validator === ANY_PLAN_KEY) return slot.plan as ObjectPlan;
  const plan: ObjectPlan = { fields: shape.order.map(() => anyValue), optional: shape.order.map(() => true) };
  shape.plans.push({ validator: ANY_PLAN_KEY, plan });
  return plan;
}

/**
 * An object's fields by `plan`, in upstream's order (`level`: the object's own nesting).
 * The object is its own JSON when its keys print in upstream's order, no field is
 * `undefined` and every field is its own JSON; else a copy with the keys in upstream's
 * order, as `resultJson` makes it.
 */
function encodeFields(record: Record<string, unknown>, shape: Shape, plan: ObjectPlan, level: number): Encoded {
  const order = shape.order;
  const { fields, optional } = plan;
  // The fields' JSON is gathered in this level's list, not a new one per object: most
  // objects of a result are their own JSON and need no list at all afterwards (a feed's
  // posts, once their keys print in order). Levels only grow down a walk, so the object
  // at a level is done before another object at that level starts.
  const values = (fieldValues[level] ??= []);
  let same = shape.printsInOrder;
  let complete = true;
  let built = false;
  for (let k = 0; k < order.length; k++) {
    const field = record[order[k]!];
    if (field === undefined) {
      if (!optional[k]) return UNSURE;
      // Left out, as upstream leaves it out (encoders never give undefined).
      values[k] = undefined;
      same = complete = false;
      continue;
    }
    const encoder = fields[k];
    if (encoder === null) return UNSURE;
    const json = encoder!(field, level);
    if (json === UNSURE) return UNSURE;
    values[k] = json;
    if (json !== field) same = false;
    if (json instanceof Built) built = true;
  }
  const n = order.length;
  const texts = textsKept ? textsOf(shape) : null;
  if (texts !== null && texts.byKey !== null) {
    const kept = keptText(texts, values, n);
    if (kept !== null) return kept;
    // A field made of texts: so is this object. Else its text is its JSON value's.
    return keep(texts, values, n, built ? objectText(texts, values) : JSON.stringify(objectJson(record, shape, values, same, complete)));
  }
  // A field made of texts (its shape keeps them, this one's not): this object is written around it.
  if (built) return new Built(objectText(texts!, values), null);
  return objectJson(record, shape, values, same, complete);
}

/** An object's JSON value from its fields' JSON (`values`, in `shape.order`): itself when `same`, else a copy in upstream's order. */
function objectJson(record: Record<string, unknown>, shape: Shape, values: readonly unknown[], same: boolean, complete: boolean): JSONValue {
  if (same) return record as JSONValue;
  const order = shape.order;
  if (complete && ++shape.copies >= COPIER_AFTER) return (shape.copier ??= compileCopier(order))(values as JSONValue[]);
  const out: Record<string, JSONValue> = {};
  for (let k = 0; k < order.length; k++) {
    const json = values[k] as JSONValue | undefined;
    if (json !== undefined) out[order[k]!] = json;
  }
  return out;
}

/** Per nesting level, the list `encodeFields` gathers an object's fields' JSON in (this thread's). */
const fieldValues: unknown[][] = [];

/** Copies of a shape made before it gets a copier of its own (a shape seen a few times only is not worth compiling). */
const COPIER_AFTER = 8;

/**
 * A function that makes the copy of an object of keys `order` (in upstream's order) from
 * its fields' JSON: one object literal, compiled once per shape. V8 then makes each copy
 * in one allocation of a known layout, where inserting the keys one by one into `{}`
 * looks up a layout transition per key: ~2.5% less CPU per feed re-run on the query
 * worker (pinned pairs; the copies were most of this walk's time). Generated code rather
 * than a library or a loop because only a literal gets that layout. Safe to generate:
 * the keys are field names upstream takes (printable ASCII, checked by `shapeOf`), each
 * written as a JSON string literal, so the code is an object literal and nothing else;
 * a `__proto__` key (which a literal would take as the prototype) never gets here
 * (`Shape.protoKey`). Array-index keys land where `{}` plus assignments puts them.
 */
function compileCopier(order: string[]): (values: JSONValue[]) => Record<string, JSONValue> {
  const fields = order.map((key, k) => `${JSON.stringify(key)}: v[${k}]`).join(", ");
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- see above
  return new Function("v", `return { ${fields} };`) as (values: JSONValue[]) => Record<string, JSONValue>;
}

/** An array whose every element `item` encodes; itself when each element is its own JSON. */
function encodeArray(array: unknown[], depth: number, item: NodeEncoder): Encoded {
  if (depth >= MAX_VALUE_NESTING || array.length > MAX_ARRAY_LENGTH) return UNSURE;
  const level = depth + 1;
  let out: Encoded[] | null = null;
  let built = false;
  for (let i = 0; i < array.length; i++) {
    // Holes and `undefined` elements: no encoder takes them (upstream refuses them).
    const element = array[i];
    const json = item(element, level);
    if (json === UNSURE) return UNSURE;
    if (json instanceof Built) built = true;
    if (out !== null) out[i] = json;
    else if (json !== element) {
      out = new Array<Encoded>(array.length);
      for (let j = 0; j < i; j++) out[j] = array[j] as JSONValue;
      out[i] = json;
    }
  }
  // Elements made of texts (a made text is never the element itself, so `out` holds them all).
  if (built) {
    let text = "[";
    for (let i = 0; i < out!.length; i++) text += (i === 0 ? "" : ",") + pieceText(out![i]);
    return new Built(`${text}]`, null);
  }
  return (out as JSONValue[] | null) ?? (array as JSONValue);
}

/** A number that is its own JSON (NaN, ±Infinity and -0 are `$float`-tagged). */
function isPlainNumber(n: number): boolean {
  return Number.isFinite(n) && !Object.is(n, -0);
}
