/**
 * The type checker's worker thread, as source to evaluate (`new Worker(src,
 * { eval: true })`): the engine runs from TypeScript sources in tests and
 * from one bundled file in the CLI, and an evaluated string works for both.
 *
 * It keeps a TypeScript builder program between checks (what `tsc --watch`
 * does): source files whose text is unchanged are reused, and only files
 * affected by a change are checked again, so a check after a save takes a
 * fraction of a fresh `tsc` run (which parses every declaration file of
 * `convex` and the DOM library each time). It answers each `{ id }` message
 * with `{ id, errors }` or `{ id, failure }`.
 */
export const TYPECHECK_WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const ts = require(workerData.typescript);
const texts = new Map();
let builder;

function readText(fileName) {
  try { return ts.sys.readFile(fileName); } catch { return undefined; }
}

function check() {
  const parsed = ts.getParsedCommandLineOfConfigFile(workerData.config, {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\\n")); },
  });
  const options = { ...parsed.options, noEmit: true };
  const host = ts.createCompilerHost(options, true);
  host.getSourceFile = (fileName, languageVersion, onError) => {
    const text = readText(fileName);
    if (text === undefined) { texts.delete(fileName); return undefined; }
    const cached = texts.get(fileName);
    if (cached !== undefined && cached.text === text) return cached.sourceFile;
    const sourceFile = ts.createSourceFile(fileName, text, languageVersion, true);
    // The builder tells changed files apart by version; the text is the version.
    sourceFile.version = String(ts.sys.createHash ? ts.sys.createHash(text) : text.length + ":" + text);
    texts.set(fileName, { text, sourceFile });
    return sourceFile;
  };
  builder = ts.createSemanticDiagnosticsBuilderProgram(parsed.fileNames, options, host, builder, parsed.errors);
  const diagnostics = [
    ...builder.getConfigFileParsingDiagnostics(),
    ...builder.getOptionsDiagnostics(),
    ...builder.getGlobalDiagnostics(),
    ...builder.getSyntacticDiagnostics(),
    ...builder.getSemanticDiagnostics(),
  ];
  return diagnostics
    .filter((d) => d.category === ts.DiagnosticCategory.Error)
    .map((d) => {
      const message = "TS" + d.code + ": " + ts.flattenDiagnosticMessageText(d.messageText, "\\n");
      if (d.file === undefined || d.start === undefined) return { file: "", line: 0, column: 0, message };
      const at = d.file.getLineAndCharacterOfPosition(d.start);
      return { file: d.file.fileName, line: at.line + 1, column: at.character + 1, message };
    });
}

parentPort.on("message", ({ id }) => {
  try {
    parentPort.postMessage({ id, errors: check() });
  } catch (e) {
    parentPort.postMessage({ id, failure: String(e && e.message || e) });
  }
});
`;
