import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { crc32, createDeflateRaw } from "node:zlib";

/** One entry of a test ZIP: its bytes as chunks (made on demand), stored or deflated. */
export interface ZipEntrySpec {
  name: string;
  chunks: () => Iterable<Uint8Array>;
  method: "store" | "deflate";
  /** Declare this uncompressed size instead of the true one (a lying zip bomb). */
  declaredSize?: number;
}

/**
 * Writes a plain ZIP (no ZIP64, no data descriptors) to a file, streaming
 * stored entries and deflating with node's zlib. For tests that need hundreds
 * of megabytes of entry data, or forged headers: fflate, the engine's own ZIP
 * library, deflates in JavaScript and takes many seconds at that size.
 */
export async function writeZipFile(file: string, entries: ZipEntrySpec[]): Promise<void> {
  const out = createWriteStream(file);
  const failed = new Promise<never>((_, reject) => out.once("error", reject));
  let offset = 0;
  const write = async (data: Uint8Array) => {
    offset += data.length;
    if (!out.write(data)) await Promise.race([once(out, "drain"), failed]);
  };
  const central: Buffer[] = [];
  for (const entry of entries) {
    let crc = 0;
    let size = 0;
    for (const chunk of entry.chunks()) {
      crc = crc32(chunk, crc);
      size += chunk.length;
    }
    const deflated = entry.method === "deflate" ? await deflateChunks(entry.chunks()) : null;
    const method = deflated === null ? 0 : 8;
    const compressedSize = deflated === null ? size : deflated.length;
    const name = Buffer.from(entry.name);
    const declared = entry.declaredSize ?? size;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc >>> 0, 14);
    local.writeUInt32LE(compressedSize, 18);
    local.writeUInt32LE(declared, 22);
    local.writeUInt16LE(name.length, 26);
    const header = Buffer.alloc(46);
    header.writeUInt32LE(0x02014b50, 0);
    header.writeUInt16LE(20, 4);
    header.writeUInt16LE(20, 6);
    header.writeUInt16LE(method, 10);
    header.writeUInt32LE(crc >>> 0, 16);
    header.writeUInt32LE(compressedSize, 20);
    header.writeUInt32LE(declared, 24);
    header.writeUInt16LE(name.length, 28);
    header.writeUInt32LE(offset, 42);
    central.push(header, name);
    await write(local);
    await write(name);
    if (deflated !== null) await write(deflated);
    else for (const chunk of entry.chunks()) await write(chunk);
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  await write(directory);
  await write(end);
  await Promise.race([new Promise<void>((resolve) => out.end(() => resolve())), failed]);
}

/** Deflates chunks with zlib as a stream: the entry's bytes are never all in memory. */
async function deflateChunks(chunks: Iterable<Uint8Array>): Promise<Buffer> {
  const deflate = createDeflateRaw({ level: 6 });
  const parts: Buffer[] = [];
  deflate.on("data", (d: Buffer) => parts.push(d));
  const ended = once(deflate, "end");
  for (const chunk of chunks) if (!deflate.write(chunk)) await once(deflate, "drain");
  deflate.end();
  await ended;
  return Buffer.concat(parts);
}
