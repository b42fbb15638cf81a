import { EngineError } from "../errors.js";

/** One element of a top-level JSON array, as text. `index` counts from 1. */
export interface ArrayElement {
  text: string;
  index: number;
}

const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

/**
 * The elements of a JSON file holding one array (`--format jsonArray`), read
 * as a stream: only the current element's bytes are held, at most `maxBytes`
 * of them and nested at most `maxDepth` levels, both checked on the raw bytes
 * before any parser sees them. Each element's text then goes through the same
 * parse as a JSONL line.
 *
 * Hand-written: a streaming JSON parser would assemble each element itself,
 * with its own (unbounded) recursion and buffering; splitting at the top
 * level's commas needs only string and bracket tracking.
 */
export async function* readJsonArray(
  source: AsyncIterable<Uint8Array>,
  limits: { maxBytes: number; maxDepth: number },
  where: string,
): AsyncGenerator<ArrayElement> {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  type State = "before" | "between" | "element" | "after";
  let state: State = "before";
  let depth = 0; // inside the element, not counting the outer array
  let inString = false;
  let escaped = false;
  let parts: Uint8Array[] = [];
  let held = 0;
  let index = 1;
  const fail = (message: string) => new EngineError("InvalidImport", `${where}: ${message}`);
  const finish = (): ArrayElement => {
    let text: string;
    try {
      text = decoder.decode(parts.length === 1 ? parts[0]! : Buffer.concat(parts, held));
    } catch {
      throw fail(`element ${index} is not valid UTF-8.`);
    }
    const element = { text, index };
    parts = [];
    held = 0;
    index += 1;
    return element;
  };

  let first = true;
  for await (let chunk of source) {
    // A UTF-8 byte order mark before the array is tolerated.
    if (first && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) chunk = chunk.subarray(3);
    first = false;
    let start = 0; // where the current element's bytes begin in this chunk
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (state === "element") {
        if (inString) {
          if (escaped) escaped = false;
          else if (c === 0x5c) escaped = true;
          else if (c === 0x22) inString = false;
          continue;
        }
        if (c === 0x22) inString = true;
        else if (c === 0x5b || c === 0x7b) {
          if (++depth > limits.maxDepth) throw fail(`element ${index} is nested more than ${limits.maxDepth} levels deep.`);
        } else if (c === 0x5d || c === 0x7d) {
          if (depth === 0 && c === 0x5d) {
            take(chunk.subarray(start, i));
            yield finish();
            state = "after";
            continue;
          }
          depth--;
        } else if (c === 0x2c && depth === 0) {
          take(chunk.subarray(start, i));
          yield finish();
          state = "between";
        }
        continue;
      }
      if (WHITESPACE.has(c)) continue;
      if (state === "before") {
        if (c !== 0x5b) throw fail("not a JSON array (a JSON file for import holds one array of objects).");
        state = "between";
      } else if (state === "between") {
        if (c === 0x5d) {
          // Only `[]` closes here; after a comma an element must follow.
          if (index > 1) throw fail(`a comma after element ${index - 1} is followed by the end of the array.`);
          state = "after";
          continue;
        }
        state = "element";
        start = i;
        i--; // read this byte again as the element's first
      } else {
        throw fail("unexpected data after the array's closing bracket.");
      }
    }
    if (state === "element") take(chunk.subarray(start));
  }
  if ((state as State) !== "after") throw fail("the file ends before the array is closed.");

  function take(bytes: Uint8Array): void {
    held += bytes.length;
    if (held > limits.maxBytes) throw fail(`element ${index} is longer than ${limits.maxBytes} bytes.`);
    if (bytes.length > 0) parts.push(bytes);
  }
}
