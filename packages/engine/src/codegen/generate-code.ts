import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { findAppConfig } from "../components/definition-bundler.js";
import { loadComponentTree } from "../components/definition-tree.js";
import { discoverAppFolder } from "../runtime/module-discovery.js";
import { API_DTS_FOOTER, API_DTS_HEADER, API_JS } from "./api-templates.js";
import { DATA_MODEL_DTS, NO_SCHEMA_DATA_MODEL_DTS } from "./data-model-templates.js";
import { SERVER_DTS, SERVER_JS } from "./server-templates.js";

/** The folder name Convex reserves for generated code. */
export const GENERATED_DIR = "_generated";

/**
 * The files of `convex/_generated/` for an app folder: the module list comes
 * from the same entry-point rules the bundler uses, so every module the
 * engine serves is typed in `api`, and nothing else is. With a
 * `convex.config.ts`, `components` types each installed component by the
 * `ComponentApi` its package (or folder) ships, as `npx convex codegen` does.
 */
export async function generateCode(appDir: string): Promise<Map<string, string>> {
  const layout = discoverAppFolder(appDir);
  const modules = layout.modules.map((m) => m.modulePath);
  const config = findAppConfig(appDir);
  const components = config === null ? [] : (await loadComponentTree(appDir, config)).rootImports;
  return new Map([
    ["api.d.ts", apiDts(modules, components)],
    ["api.js", API_JS],
    ["dataModel.d.ts", layout.schemaFile ? DATA_MODEL_DTS : NO_SCHEMA_DATA_MODEL_DTS],
    ["server.d.ts", SERVER_DTS],
    ["server.js", SERVER_JS],
  ]);
}

/**
 * Writes `_generated/`, touching only files whose content changed (a watcher
 * on the app folder must not see its own output as a change). Returns the
 * names of the files written.
 */
export async function writeGeneratedCode(appDir: string): Promise<string[]> {
  const files = await generateCode(appDir);
  const dir = path.join(appDir, GENERATED_DIR);
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const [name, content] of files) {
    const file = path.join(dir, name);
    if (existsSync(file) && readFileSync(file, "utf8") === content) continue;
    writeFileSync(file, content);
    written.push(name);
  }
  return written;
}

function apiDts(modules: string[], components: { name: string; importPath: string }[]): string {
  const sorted = [...modules].sort();
  const imports = sorted.map((m) => `import type * as ${identifier(m)} from "../${m}.js";`).join("\n");
  const entries = sorted.map((m) => `  ${propertyKey(m)}: typeof ${identifier(m)};`).join("\n");
  return (
    API_DTS_HEADER +
    `${imports}\n\n` +
    `import type {\n  ApiFromModules,\n  FilterApi,\n  FunctionReference,\n} from "convex/server";\n\n` +
    `declare const fullApi: ApiFromModules<{\n${entries}\n}>;\n\n` +
    API_DTS_FOOTER +
    componentsDts(components)
  );
}

/** The `components` declaration: one `ComponentApi` per installed component, in installation order. */
function componentsDts(components: { name: string; importPath: string }[]): string {
  if (components.length === 0) return "export declare const components: {};\n";
  const lines = components.map(
    (c) => `  ${propertyKey(c.name)}: import(${JSON.stringify(`${c.importPath}/_generated/component.js`)}).ComponentApi<${JSON.stringify(c.name)}>;`,
  );
  return `export declare const components: {\n${lines.join("\n")}\n};\n`;
}

/** `lib/input-rules` → `lib_input_rules`: a module path as a TypeScript identifier. */
function identifier(modulePath: string): string {
  return modulePath.replace(/[^A-Za-z0-9_$]/g, "_");
}

/** Plain identifiers stay bare, paths are quoted (`"lib/auth"`). */
function propertyKey(modulePath: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(modulePath) ? modulePath : JSON.stringify(modulePath);
}
