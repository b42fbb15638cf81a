import { createWriteStream, type WriteStream } from "node:fs";
import { Zip, ZipDeflate } from "fflate";

/**
 * A ZIP written entry by entry to a file (fflate, streaming): Deflate
 * entries with Unix mode 0644, as Convex's exporter writes them.
 */
export class ZipFileWriter {
  private readonly out: WriteStream;
  private readonly zip: Zip;
  private readonly finished: Promise<void>;

  constructor(file: string) {
    this.out = createWriteStream(file, { mode: 0o644 });
    let resolve!: () => void;
    let reject!: (e: unknown) => void;
    this.finished = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.out.on("error", reject);
    this.zip = new Zip((err, chunk, final) => {
      if (err) return reject(err);
      this.out.write(chunk);
      if (final) this.out.end(() => resolve());
    });
  }

  /** Starts an entry; push its bytes with the returned function, the last call with `final = true`. */
  entry(name: string): (data: Uint8Array, final: boolean) => void {
    const file = new ZipDeflate(name, { level: 6 });
    // Unix, regular file, rw-r--r--.
    file.os = 3;
    file.attrs = (0o100644 << 16) >>> 0;
    this.zip.add(file);
    return (data, final) => file.push(data, final);
  }

  /** Adds a whole entry at once. */
  add(name: string, data: Uint8Array | string): void {
    this.entry(name)(typeof data === "string" ? Buffer.from(data) : data, true);
  }

  /** Writes the central directory and closes the file. */
  async close(): Promise<void> {
    this.zip.end();
    await this.finished;
  }
}
