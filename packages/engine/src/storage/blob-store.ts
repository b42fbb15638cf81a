import type { Readable } from "node:stream";

/**
 * Where file bytes live: the disk side of file storage, knowing nothing of
 * `_storage` rows, tokens or HTTP. Files are named by their `_storage` id, so
 * deleting a row's file never has to ask whether another row shares it.
 *
 * Writing is two-phase so a crash never leaves a file behind that no row
 * owns: bytes are first `receive`d into a temporary file (fsynced), then
 * `place`d under their id inside the transaction that inserts the row, just
 * before it commits. `recover` at start removes temporary files and placed
 * files whose row never committed.
 */
export interface BlobStore {
  /**
   * Streams `source` into a new temporary file, computing its SHA-256 and
   * size on the way, and fsyncs it. More than `limit` bytes abort the write
   * and remove the file (`EngineError("PayloadTooLarge")`); so does any error
   * of the source (client disconnect).
   */
  receive(source: AsyncIterable<Uint8Array>, limit: number): Promise<ReceivedBlob>;
  /** Moves a received file to its final name (atomic rename, directory fsynced). */
  place(received: ReceivedBlob, storageId: string): void;
  /** Removes a received file that will not be kept (no error if it is gone). */
  discard(received: ReceivedBlob): void;
  /** Opens a stored file for reading, or null when there is none. */
  open(storageId: string): Promise<OpenBlob | null>;
  /** Deletes a stored file (no error if it is gone). */
  remove(storageId: string): void;
  /**
   * Crash recovery, before anything else uses the store: removes every
   * temporary file and every stored file whose id `isKept` rejects.
   * Returns how many files of each kind were removed.
   */
  recover(isKept: (storageId: string) => boolean): { temporary: number; orphans: number };
}

/** A received, not yet placed file. */
export interface ReceivedBlob {
  /** Bytes written. */
  readonly size: number;
  /** SHA-256 of the bytes. */
  readonly sha256: Buffer;
  /** The temporary file (inside the store's own folder). */
  readonly tempPath: string;
}

/**
 * An open stored file. The descriptor keeps the bytes readable even if the
 * file is deleted meanwhile, so a response never mixes two states.
 */
export interface OpenBlob {
  /** Streams bytes `start..end` inclusive (default: the whole file) and then closes the file. */
  stream(range?: { start: number; end: number }): Readable;
  /** Reads every byte and closes the file. */
  readAll(): Promise<Buffer>;
  /** Closes the file without reading (after a HEAD or a 304). */
  close(): Promise<void>;
}
