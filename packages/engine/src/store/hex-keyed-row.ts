import type { IndexRow } from "./store";

/**
 * A scanned row whose key arrives from SQLite as hex text and becomes bytes only when
 * someone reads `key`: a stream that hands out twenty rows needs the bytes of one of them
 * (where it stopped), and a JS string is far cheaper to make and collect than a Buffer.
 */
export class HexKeyedRow implements IndexRow {
  private bytes: Buffer | null = null;

  constructor(
    private readonly keyHex: string,
    readonly text: string,
  ) {}

  /** The key bytes, decoded once on first access. */
  get key(): Buffer {
    return (this.bytes ??= Buffer.from(this.keyHex, "hex"));
  }
}
