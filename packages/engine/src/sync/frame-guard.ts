import { EngineError } from "../errors.js";
import { MAX_JSON_DEPTH, MAX_VALUE_NESTING } from "../values/value-limits.js";

/**
 * A look at a client frame before `JSON.parse` sees it. Parsing runs on the
 * thread that serves every socket, and its cost depends on the shape of the
 * text more than on its size: 16 MiB of `[[[[…` takes V8 about ten seconds
 * (and the value then overflows the stack of anything recursive), and 16 MiB
 * of `[0],[0],…` takes seconds of allocation. One linear pass over the text,
 * with strings skipped by native `indexOf`, refuses such frames in tens of
 * milliseconds at most:
 *
 * - nesting deeper than `MAX_JSON_DEPTH` (`values/value-limits.ts`: Convex's
 *   64 levels for a value plus room for the envelope; arguments between 65
 *   levels and that get Convex's function error from the value checks);
 * - more than `MAX_FRAME_VALUES` containers and list items (JSON.parse of
 *   that many stays in the tens of milliseconds; Convex caps an array at
 *   8,192 items and an object at 1,024 fields, so real arguments stay far
 *   below it);
 * - more than `MAX_FRAME_ESCAPES` backslash escapes in strings (each costs a
 *   step of this scan).
 *
 * Hand-written because no JSON library bounds nesting or item counts before
 * building the value. Runs on the sync server's thread.
 */

/** Containers plus list items a frame may hold. */
export const MAX_FRAME_VALUES = 131_072;
/** Backslash escapes a frame's strings may hold. */
export const MAX_FRAME_ESCAPES = 262_144;

const QUOTE = 34;
const COMMA = 44;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;

/** Throws a protocol error (`TooNestedError` or `FrameTooComplex`, recovery `client`) for a frame too costly to parse. */
export function guardFrame(text: string): void {
  const maxDepth = MAX_JSON_DEPTH;
  let depth = 0;
  let values = 0;
  let escapes = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      let quote = text.indexOf('"', i + 1);
      let backslash = text.indexOf("\\", i + 1);
      while (backslash !== -1 && backslash < quote) {
        if (++escapes > MAX_FRAME_ESCAPES) throw tooComplex(`more than ${MAX_FRAME_ESCAPES} escaped characters`);
        if (backslash + 1 === quote) quote = text.indexOf('"', quote + 1);
        backslash = text.indexOf("\\", backslash + 2);
      }
      // An unterminated string is malformed JSON; the parser reports it.
      if (quote === -1) return;
      i = quote;
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > maxDepth) {
        throw new EngineError(
          "TooNestedError",
          `A client message nests deeper than ${maxDepth} levels: a value may nest at most ${MAX_VALUE_NESTING} levels (Convex's limit).`,
          "client",
        );
      }
      if (++values > MAX_FRAME_VALUES) throw tooComplex(`more than ${MAX_FRAME_VALUES} values`);
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
      depth -= 1;
    } else if (c === COMMA) {
      if (++values > MAX_FRAME_VALUES) throw tooComplex(`more than ${MAX_FRAME_VALUES} values`);
    }
  }
}

function tooComplex(what: string) {
  return new EngineError(
    "FrameTooComplex",
    `A client message may hold at most ${MAX_FRAME_VALUES} values and ${MAX_FRAME_ESCAPES} escaped characters; this one has ${what}.`,
    "client",
  );
}
