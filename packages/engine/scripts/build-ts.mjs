// One esbuild configuration for the repository's TypeScript entry points that
// run under Node (the engine's CLI, scripts, benchmarks): ESM, node20,
// npm packages left external, inline source maps.
import { build } from "esbuild";

/** Bundles `entry` into `outfile`; `plugins` are esbuild plugins (e.g. to resolve some imports elsewhere). */
export async function buildTs(entry, outfile, plugins = []) {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    sourcemap: "inline",
    logLevel: "warning",
    loader: { ".html": "text", ".css": "text" },
    plugins,
    // Bundled CommonJS dependencies may call require(); ESM output needs one.
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
}
