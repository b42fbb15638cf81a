import type { IndexRow } from "./store";

/**
 * A scanned row as SQLite hands it over: one string, its key in hex followed by its
 * document's text (`hex(e.key) || d.value`, see `sqlite-statements.ts`). One column read
 * with `pluck()` costs far less than a row of two (better-sqlite3 builds an array per row:
 * measured 1.16 µs against 1.63 µs per `first()` that finds its row). The split is
 * unambiguous: hex digits are [0-9A-F] and a stored document is a JSON object, so its text
 * starts at the first `{`.
 *
 * `text` is a slice of that string (V8 makes it a view, not a copy); the key becomes bytes
 * only when someone reads `key`: a stream that hands out twenty rows needs the bytes of one
 * of them (where it stopped), and a JS string is far cheaper to make and collect than a
 * Buffer. Runs on the thread of the store's connection.
 */
export class HexKeyedRow implements IndexRow {
  private bytes: Buffer | null = null;
  private readonly split: number;
  readonly text: string;
  parsed: unknown = undefined;

  constructor(private readonly keyHexAndText: string) {
    this.split = keyHexAndText.indexOf("{");
    this.text = keyHexAndText.slice(this.split);
  }

  /** The key bytes, decoded once on first access. */
  get key(): Buffer {
    return (this.bytes ??= Buffer.from(this.keyHexAndText.slice(0, this.split), "hex"));
  }
}
