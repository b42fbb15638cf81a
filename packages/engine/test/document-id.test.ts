import { describe, expect, test } from "vitest";
import {
  decodeDocumentId,
  encodeDocumentId,
  newInternalId,
  tableNumberOfId,
  tryDecodeDocumentId,
} from "../src/values/document-id";
import { isEngineError } from "../src/errors";
import { createSeededRandom } from "./helpers/seeded-random";

const SPEC_INTERNAL_ID = Buffer.from("0b30557a9fc4e90e33587da2c7ec1136", "hex");

describe("document ids", () => {
  test("reproduce the three examples of the interface spec", () => {
    expect(encodeDocumentId(10001, SPEC_INTERNAL_ID)).toBe("j570pc2nfafw9t8e6dc7v8p7xg8kdsw0");
    expect(encodeDocumentId(540, SPEC_INTERNAL_ID)).toBe("kg20pc2nfafw9t8e6dc7v8p7xg8kda2w");
    expect(encodeDocumentId(539, SPEC_INTERNAL_ID)).toBe("kc20pc2nfafw9t8e6dc7v8p7xg8kd9ta");
  });

  test("decode ids minted by real deployments and recover their table", () => {
    const storage = tryDecodeDocumentId("kg204m40v9m1bmkthp86n486mh85s0rc");
    expect(storage?.tableNumber).toBe(540);
    // The last two internal bytes are the day number: 0x505c = day 20572 (2026-04-29).
    expect(Buffer.from(storage!.internalId.subarray(14)).toString("hex")).toBe("505c");
    expect(tableNumberOfId("k570e9j5cj1t5gf0zwf3tq3vkawxhqr0")).toBe(10009);
  });

  test("round-trip every VInt width, with lengths 31, 32, 34, 36 and 37", () => {
    const random = createSeededRandom(7);
    const cases: [number, number][] = [
      [1, 31], [127, 31], [128, 32], [10001, 32], [16383, 32], [16384, 34],
      [2 ** 21 - 1, 34], [2 ** 21, 36], [2 ** 28 - 1, 36], [2 ** 28, 37], [2 ** 32 - 1, 37],
    ];
    for (const [table, length] of cases) {
      const internal = random.bytes(16);
      const id = encodeDocumentId(table, internal);
      expect(id).toHaveLength(length);
      expect(id).toMatch(/^[0-9a-hjkmnp-tv-z]+$/);
      const decoded = decodeDocumentId(id);
      expect(decoded.tableNumber).toBe(table);
      expect(Buffer.from(decoded.internalId).equals(Buffer.from(internal))).toBe(true);
    }
  });

  test("reject a changed character (checksum), a wrong length, foreign letters and table 0", () => {
    const id = encodeDocumentId(10001, SPEC_INTERNAL_ID);
    const flipped = id.slice(0, 10) + (id[10] === "a" ? "b" : "a") + id.slice(11);
    expect(tryDecodeDocumentId(flipped)).toBeNull();
    expect(tryDecodeDocumentId(id.slice(0, -1))).toBeNull();
    expect(tryDecodeDocumentId(id + "0")).toBeNull();
    expect(tryDecodeDocumentId(id.toUpperCase())).toBeNull();
    expect(tryDecodeDocumentId(id.replace(/.$/, "u"))).toBeNull();
    expect(tryDecodeDocumentId("000000000000000000000010000items")).toBeNull();
    expect(tryDecodeDocumentId("")).toBeNull();
    expect(() => encodeDocumentId(0, SPEC_INTERNAL_ID)).toThrow();
    // Table 0 encoded by hand (VInt 0x00) with a valid checksum still must not decode.
    const bytes = Buffer.concat([Buffer.from([0]), SPEC_INTERNAL_ID]);
    let c0 = 0;
    let c1 = 0;
    for (const b of bytes) {
      c0 = (c0 + b) & 0xff;
      c1 = (c1 + c0) & 0xff;
    }
    const withFooter = Buffer.concat([bytes, Buffer.from([c0, c1])]);
    expect(tryDecodeDocumentId(base32(withFooter))).toBeNull();
  });

  test("reject a non-canonical spelling: a padded VInt re-encodes differently", () => {
    // Table 1 written as the two-byte VInt 0x81 0x00 decodes to 1 but re-encodes shorter.
    const bytes = Buffer.concat([Buffer.from([0x81, 0x00]), SPEC_INTERNAL_ID]);
    let c0 = 0;
    let c1 = 0;
    for (const b of bytes) {
      c0 = (c0 + b) & 0xff;
      c1 = (c1 + c0) & 0xff;
    }
    expect(tryDecodeDocumentId(base32(Buffer.concat([bytes, Buffer.from([c0, c1])])))).toBeNull();
  });

  test("decodeDocumentId throws an InvalidId EngineError", () => {
    let error: unknown;
    try {
      decodeDocumentId("not-an-id");
    } catch (e) {
      error = e;
    }
    expect(isEngineError(error, "InvalidId")).toBe(true);
  });

  test("new internal ids carry the creation millisecond, 8 random bytes and the big-endian day number", () => {
    const random = createSeededRandom(1);
    const day = 20572;
    const ms = day * 86_400_000 + 5_000;
    const internal = newInternalId(random.bytes, ms);
    expect(internal).toHaveLength(16);
    expect(Buffer.from(internal.subarray(0, 6)).readUIntBE(0, 6)).toBe(ms);
    expect((internal[14] << 8) | internal[15]).toBe(day);
    // Two ids of the same millisecond differ in their random bytes.
    expect(Buffer.from(newInternalId(random.bytes, ms)).equals(Buffer.from(internal))).toBe(false);
  });

  test("a table's ids sort by creation time, as strings (so inserts append to the by_id index)", () => {
    const random = createSeededRandom(2);
    const start = Date.UTC(2026, 11, 6);
    const ids = Array.from({ length: 200 }, (_, i) => encodeDocumentId(10001, newInternalId(random.bytes, start + i * 7)));
    expect([...ids].sort()).toEqual(ids);
    for (const id of ids) expect(tryDecodeDocumentId(id)?.tableNumber).toBe(10001);
  });
});

function base32(bytes: Uint8Array): string {
  const alphabet = "0123456789abcdefghjkmnpqrstvwxyz";
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const b of bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += alphabet[(buffer >>> bits) & 31];
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += alphabet[(buffer << (5 - bits)) & 31];
  return out;
}
