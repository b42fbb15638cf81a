import { EngineError } from "../errors.js";

/** One line of a byte stream, decoded. `line` counts from 1. */
export interface TextLine {
  text: string;
  line: number;
}

/**
 * The lines of a byte stream (split at `\n`, a trailing `\r` dropped), each
 * decoded as UTF-8. A line longer than `maxBytes` is refused as soon as that
 * many bytes of it have arrived, so a single 300 MB line never sits in memory;
 * only the current line's bytes are held. Invalid UTF-8 is refused.
 *
 * Hand-written because no stream splitter we could use bounds a line before
 * buffering it (node's readline grows its buffer without limit). Splitting on
 * the byte 0x0A is safe in UTF-8: it never occurs inside a multi-byte sequence.
 */
export async function* readLines(source: AsyncIterable<Uint8Array>, maxBytes: number, where: string): AsyncGenerator<TextLine> {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let parts: Uint8Array[] = [];
  let held = 0;
  let line = 1;
  const tooLong = () =>
    new EngineError("InvalidImport", `${where} line ${line} is longer than ${maxBytes} bytes (one line holds one document, at most 1 MiB in Convex).`);
  const decode = (bytes: Uint8Array): string => {
    const end = bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.length - 1 : bytes.length;
    try {
      return decoder.decode(bytes.subarray(0, end));
    } catch {
      throw new EngineError("InvalidImport", `${where} line ${line} is not valid UTF-8.`);
    }
  };
  for await (const chunk of source) {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(0x0a, start);
      if (newline === -1) break;
      const piece = chunk.subarray(start, newline);
      if (held + piece.length > maxBytes) throw tooLong();
      const bytes = parts.length === 0 ? piece : Buffer.concat([...parts, piece], held + piece.length);
      yield { text: decode(bytes), line };
      parts = [];
      held = 0;
      line += 1;
      start = newline + 1;
    }
    if (start < chunk.length) {
      held += chunk.length - start;
      if (held > maxBytes) throw tooLong();
      parts.push(chunk.subarray(start));
    }
  }
  if (held > 0) yield { text: decode(parts.length === 1 ? parts[0]! : Buffer.concat(parts, held)), line };
}
