import { describe, expect, test } from "vitest";
import { createDocumentCache } from "../src/store/document-cache";

describe("document cache", () => {
  test("evicts the least recently used document, a hit counting as a use", () => {
    const cache = createDocumentCache(3);
    cache.set("a", '{"n":1}');
    cache.set("b", '{"n":2}');
    cache.set("c", null);
    expect(cache.get("a")).toBe('{"n":1}');
    cache.set("d", '{"n":4}');
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("a")).toBe('{"n":1}');
    expect(cache.get("c")).toBeNull();
    expect(cache.get("d")).toBe('{"n":4}');
  });

  test("setting a cached id again replaces its text and makes it the most recent", () => {
    const cache = createDocumentCache(2);
    cache.set("a", "1");
    cache.set("b", "2");
    cache.set("a", "3");
    cache.set("c", "4");
    expect(cache.get("a")).toBe("3");
    expect(cache.get("b")).toBeUndefined();
  });

  test("delete and clear forget; capacity 0 caches nothing", () => {
    const cache = createDocumentCache(10);
    cache.set("a", "1");
    cache.set("b", null);
    cache.delete("a");
    expect(cache.get("a")).toBeUndefined();
    expect(cache.get("b")).toBeNull();
    cache.clear();
    expect(cache.get("b")).toBeUndefined();
    const off = createDocumentCache(0);
    off.set("a", "1");
    expect(off.get("a")).toBeUndefined();
  });

  test("stays bounded under a stream of misses", () => {
    const cache = createDocumentCache(1_000);
    for (let i = 0; i < 50_000; i++) cache.set(`id${i}`, `{"i":${i}}`);
    expect(cache.get("id48999")).toBeUndefined();
    expect(cache.get("id49000")).toBe('{"i":49000}');
    expect(cache.get("id49999")).toBe('{"i":49999}');
  });
});
