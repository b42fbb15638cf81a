import { describe, expect, it } from "vitest";
import { ConvexError } from "convex/values";
import { checkEntities, hashtagsIn, mentionsIn, normalizeTag } from "../../convex/lib/text-entities";

describe("hashtag and mention parsing", () => {
  it("hashtags: Unicode letters, lowercased, distinct, not glued to a word, not only digits", () => {
    expect(hashtagsIn("#Sunset #sunset #Café #日本 #東京_2026 #a1")).toEqual(["sunset", "café", "日本", "東京_2026", "a1"]);
    expect(hashtagsIn("C# a#b &#39; #123 # x ##double")).toEqual([]);
    // NFD input ("e" + combining accent) is the same tag as NFC.
    expect(hashtagsIn("#Cafe\u0301")).toEqual(["café"]);
    expect(normalizeTag("  #CAFE\u0301 ")).toBe("café");
  });

  it("mentions: username characters, any case, not inside an email, trailing dots also tried without", () => {
    expect(mentionsIn("@Ada and @ada, mail ada@example.com, (@bob_1) @carl.")).toEqual([["ada"], ["bob_1"], ["carl.", "carl"]]);
    expect(mentionsIn("@ @! @" + "x".repeat(31))).toEqual([]);
  });

  it("checkEntities refuses too many tags or mentions with INVALID_ARGUMENT", () => {
    const many = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}n${i}`).join(" ");
    expect(checkEntities("A caption", `${many("#", 30)} ${many("@", 20)}`).hashtags).toHaveLength(30);
    for (const text of [many("#", 31), many("@", 21), `#${"a".repeat(101)}`]) {
      let thrown: unknown;
      try {
        checkEntities("A caption", text);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ConvexError);
      expect((thrown as ConvexError<{ code: string }>).data.code).toBe("INVALID_ARGUMENT");
    }
  });
});
