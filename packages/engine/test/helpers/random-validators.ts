import { jsonToConvex, v, type JSONValue, type ValidatorJSON } from "convex/values";
import { validatorJson } from "./convex-json";
import type { SeededRandom } from "./seeded-random";

/**
 * Random validators (as the `convex` package exports them) for the side-by-side tests of
 * compiled checks: every kind of leaf (ids of the tables `users`, `posts`, `_storage`),
 * arrays, objects of 1–4 fields named from `fieldNames` (each optional or not), unions
 * of two, and records. `random` drives every choice, so a seed gives one sequence.
 */
export function randomValidators(random: SeededRandom, fieldNames: readonly string[]): (depth: number) => ValidatorJSON {
  const pick = <T>(items: readonly T[]): T => items[random.int(items.length)]!;
  const leaves = [
    () => v.string(),
    () => v.number(),
    () => v.boolean(),
    () => v.null(),
    () => v.int64(),
    () => v.bytes(),
    () => v.any(),
    () => v.id(pick(["users", "posts", "_storage"])),
    () => v.literal(pick(["a", "b", 0, 1, -0, true, false, 5n] as const)),
  ];
  const randomValidator = (depth: number): ValidatorJSON => {
    if (depth <= 0 || random.int(3) === 0) return validatorJson(pick(leaves)());
    switch (random.int(4)) {
      case 0:
        return { type: "array", value: randomValidator(depth - 1) } as ValidatorJSON;
      case 1:
      case 2: {
        const fields: Record<string, { fieldType: ValidatorJSON; optional: boolean }> = {};
        for (let n = 1 + random.int(4); n > 0; n--) fields[pick(fieldNames)] = { fieldType: randomValidator(depth - 1), optional: random.int(2) === 0 };
        return { type: "object", value: fields } as ValidatorJSON;
      }
      default:
        return random.int(4) === 0
          ? ({ type: "record", keys: validatorJson(v.string()), values: { fieldType: randomValidator(depth - 1), optional: false } } as ValidatorJSON)
          : ({ type: "union", value: [randomValidator(depth - 1), randomValidator(depth - 1)] } as ValidatorJSON);
    }
  };
  return randomValidator;
}

/**
 * Random values built to match a validator (`ids`: one id each of `users`, `posts` and
 * `_storage`, in that order): varied leaves, objects with their keys in random order and
 * optional fields left out or set to `undefined`, so that compiled checks meet the values
 * they must accept in many forms.
 */
export function matchingValues(random: SeededRandom, ids: readonly string[]): (validator: ValidatorJSON) => unknown {
  const pick = <T>(items: readonly T[]): T => items[random.int(items.length)]!;
  const matchingValue = (validator: ValidatorJSON, depth = 0): unknown => {
    switch (validator.type) {
      case "string":
        return pick(["s", "longer string", "😀"]);
      case "number":
        return pick([2.5, 0, 1e21, -7]);
      case "boolean":
        return true;
      case "null":
        return null;
      case "bigint":
        return 3n;
      case "bytes":
        return new Uint8Array([7]).buffer;
      case "any":
        return { free: [1, "x"], b: null };
      case "id":
        return ids[["users", "posts", "_storage"].indexOf(validator.tableName)]!;
      case "literal":
        return jsonToConvex(validator.value as JSONValue);
      case "array":
        return Array.from({ length: random.int(3) }, () => matchingValue(validator.value, depth + 1));
      case "object": {
        const names = Object.keys(validator.value).sort(() => random.next() - 0.5);
        const out: Record<string, unknown> = {};
        for (const name of names) {
          const field = validator.value[name]!;
          if (!field.optional || random.int(2) === 0) out[name] = matchingValue(field.fieldType, depth + 1);
          else if (random.int(3) === 0) out[name] = undefined;
        }
        return out;
      }
      case "union":
        return matchingValue(validator.value[random.int(validator.value.length)]!, depth + 1);
      case "record":
        return { k: matchingValue(validator.values.fieldType, depth + 1) };
      default:
        return null;
    }
  };
  return matchingValue;
}
