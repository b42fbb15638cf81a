// The engine as a library, for tests and tools that start one in-process (the CLI,
// `bin/convex-local.mjs`, is the way to run it). TypeScript source: import it from
// TypeScript-aware runners (vitest, tsx) or bundle it.

export { createEngine } from "./engine.js";
export type { Engine, EngineOptions } from "./engine-options.js";
export { consoleLogger, type EngineLogger } from "./logger.js";
export { EngineError } from "./errors.js";
export { bundleApp, type AppBundle } from "./runtime/app-bundler.js";
export { generateCode } from "./codegen/generate-code.js";
