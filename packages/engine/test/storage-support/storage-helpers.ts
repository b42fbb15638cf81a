import { existsSync, readdirSync } from "node:fs";
import { request } from "node:http";
import path from "node:path";

/** The folders of an engine's file storage (see `engine/storage/local-storage.ts`). */
export function storageDirs(dataDir: string): { blobs: string; tmp: string } {
  const root = path.join(dataDir, "storage");
  return { blobs: path.join(root, "blobs"), tmp: path.join(root, "tmp") };
}

/** File names in `dir` (empty when it does not exist). */
export function filesIn(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

/** A response read in full. */
export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/**
 * Sends a request with the path exactly as given (no URL normalization, so
 * `../` and odd encodings reach the server) and an optional body, written
 * in `chunks` without a Content-Length (chunked) when asked.
 */
export function rawRequest(
  baseUrl: string,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: Buffer; chunks?: Buffer[] },
): Promise<RawResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, method: options.method ?? "GET", path: options.path, headers: options.headers },
      (res) => {
        const parts: Buffer[] = [];
        res.on("data", (d: Buffer) => parts.push(d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    if (options.chunks !== undefined) {
      for (const chunk of options.chunks) req.write(chunk);
      req.end();
    } else {
      req.end(options.body);
    }
  });
}
