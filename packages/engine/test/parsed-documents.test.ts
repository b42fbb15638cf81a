import { expect, test } from "vitest";
import { DocumentList, replyText, replyValue } from "../src/runtime/syscalls/op-types";
import { parsedDocument, parsedRow } from "../src/runtime/syscalls/parsed-documents";
import { HexKeyedRow } from "../src/store/hex-keyed-row";

/**
 * Scanned documents reach the worker threads' query builder as rows that keep their parse
 * (`parsedRow`), so the rows the scan cache hands to run after run are parsed once and
 * looked up nowhere. What a row's parse is must not depend on that: the text parsed, the
 * same as `parsedDocument` gives for the text, whichever is asked first.
 */

const row = (text: string) => new HexKeyedRow(`0A0B${text}`);

test("a row keeps its parse: the text's parse, shared with parsedDocument, the same object on later asks", () => {
  const text = JSON.stringify({ _id: "r1", _creationTime: 1, tags: ["a"], meta: { seen: false } });
  const scanned = row(text);
  expect(scanned.parsed).toBeUndefined();
  const first = parsedRow(scanned);
  expect(first).toEqual(JSON.parse(text));
  expect(first).toBe(parsedDocument(text));
  expect(scanned.parsed).toBe(first);
  expect(parsedRow(scanned)).toBe(first);
  // Another row of the same text (a scan the cache did not keep) gets the same shared parse.
  expect(parsedRow(row(text))).toBe(first);
});

test("a row whose text is too long to cache keeps no parse, and is parsed afresh each time", () => {
  const text = JSON.stringify({ _id: "r2", body: "x".repeat(70 * 1024) });
  const scanned = row(text);
  const first = parsedRow(scanned);
  expect(first).toEqual(JSON.parse(text));
  expect(scanned.parsed).toBeUndefined();
  expect(parsedRow(scanned)).not.toBe(first);
});

test("a list of rows answers both protocols as a list of their texts did", () => {
  const texts = [{ _id: "a", n: 1 }, { _id: "b", n: { $integer: "AQAAAAAAAAA=" } }, { _id: "c", s: "é\u0000" }].map((d) => JSON.stringify(d));
  const reply = new DocumentList(texts.map(row));
  expect(replyText(reply)).toBe(`[${texts.join(",")}]`);
  expect(JSON.parse(replyText(reply))).toEqual(texts.map((t) => JSON.parse(t)));
  expect(replyValue(reply)).toEqual(texts.map((t) => JSON.parse(t)));
  expect(replyValue(new DocumentList([]))).toEqual([]);
  expect(replyText(new DocumentList([]))).toBe("[]");
});
