/**
 * The `Range` request header (RFC 9110 §14), for one range of bytes. Several
 * ranges, other units and malformed values are ignored (the whole file is
 * sent), which the RFC allows; a well-formed range outside the file is
 * unsatisfiable (416).
 */
export type ByteRange = { start: number; end: number } | "unsatisfiable" | null;

const SINGLE = /^bytes=(\d*)-(\d*)$/;

/** The inclusive byte range `header` asks for in a file of `size` bytes. */
export function parseByteRange(header: string | undefined, size: number): ByteRange {
  if (header === undefined) return null;
  const match = SINGLE.exec(header.trim());
  if (match === null) return null;
  const [, first, last] = match;
  if (first === "" && last === "") return null;
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  if (last !== "" && Number(last) < start) return null;
  if (start >= size) return "unsatisfiable";
  return { start, end };
}
