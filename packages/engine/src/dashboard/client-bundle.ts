import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

/** The dashboard's script and styles, built from `client/`. */
export interface ClientBundle {
  script: BuiltAsset;
  styles: BuiltAsset;
}

/** One built file with an ETag for conditional requests. */
export interface BuiltAsset {
  text: string;
  etag: string;
}

/**
 * Builds the browser code once per process, on the first request, with the
 * esbuild the engine already uses for `convex/`: the engine stays one
 * TypeScript source tree with no build step of its own, and starting an
 * engine does not pay for a dashboard nobody opens.
 */
export function createClientBundle(sourceDir: string = clientSourceDir()): () => Promise<ClientBundle> {
  let built: Promise<ClientBundle> | null = null;
  return () => {
    built ??= buildClient(sourceDir).catch((e: unknown) => {
      built = null;
      throw e;
    });
    return built;
  };
}

async function buildClient(sourceDir: string): Promise<ClientBundle> {
  const result = await build({
    entryPoints: { app: path.join(sourceDir, "main.ts"), styles: path.join(sourceDir, "styles.css") },
    outdir: "/dashboard-out",
    bundle: true,
    write: false,
    format: "iife",
    platform: "browser",
    target: ["chrome110", "firefox110", "safari16"],
    minify: true,
    legalComments: "none",
    logLevel: "silent",
  });
  const text = (suffix: string) => {
    const file = result.outputFiles.find((f) => f.path.endsWith(suffix));
    if (file === undefined) throw new Error(`The dashboard build produced no ${suffix} file.`);
    return asset(file.text);
  };
  return { script: text("app.js"), styles: text("styles.css") };
}

function asset(text: string): BuiltAsset {
  return { text, etag: `"${createHash("sha256").update(text).digest("base64url").slice(0, 22)}"` };
}

/**
 * Where `client/` is: beside this module when it runs from source (tests),
 * or under `src/dashboard/` of the package when it runs from the CLI
 * bundle in `dist/` (bin/convex-local.mjs builds that from these sources).
 */
function clientSourceDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.join(here, "client"), path.join(here, "..", "src", "dashboard", "client")];
  return candidates.find((dir) => existsSync(path.join(dir, "main.ts"))) ?? candidates[0]!;
}
