import path from "node:path";
import { writeGeneratedCode } from "../codegen/generate-code.js";
import { isEngineError } from "../errors.js";
import { bundleApp, type AppBundle } from "../runtime/app-bundler.js";
import type { AppDefinition } from "../runtime/function-registry.js";
import { watchFolder } from "./folder-watcher.js";
import { createTypechecker, type TypecheckMode, type TypeError } from "./typecheck.js";

/** Where a dev session reports (the terminal in `npm run dev`). */
export interface DevOutput {
  info(line: string): void;
  error(line: string): void;
}

/** How a dev session is set up. */
export interface DevSessionOptions {
  appDir: string;
  out: DevOutput;
  /** `--typecheck`: default `try`, as `npx convex dev`. */
  typecheck?: TypecheckMode;
  /**
   * Makes a built and type-checked bundle live: swaps it into the running
   * engine (or starts the engine with it). Throws, keeping the previous code,
   * when the code is refused (a module that throws while loading, a schema the
   * documents do not match).
   */
  push(bundle: AppBundle): Promise<AppDefinition>;
  /** A failure that is not the code's (a port in use): the session stops and reports it here. */
  onFatal?(e: unknown): void;
}

/** A running `dev`: watching, checking, pushing. */
export interface DevSession {
  /** Resolves after the first build has been pushed or refused. */
  readonly firstRound: Promise<void>;
  close(): Promise<void>;
}

/**
 * `npx convex dev` on the engine. At start and on every save of the functions
 * folder: regenerate `_generated/`, bundle, type-check, push. Nothing reaches
 * the engine until it bundles and type-checks (unless `--typecheck disable`),
 * so a type error never goes live; a build error, type error or refused push
 * is printed with file and line, and the previous code keeps serving.
 */
export function startDevSession(options: DevSessionOptions): DevSession {
  const { appDir, out } = options;
  const mode = options.typecheck ?? "try";
  const typechecker = mode === "disable" ? null : createTypechecker(appDir);
  let dirty = false;
  let running = false;
  let closed = false;
  let warnedUnchecked = false;
  // Until a first push succeeds there is no previous code to keep serving.
  let pushedOnce = false;
  const notPushed = () => (pushedOnce ? "not pushed, the previous functions keep serving" : "not pushed, nothing is served until this is fixed");

  const rebuild = async (reason: string): Promise<void> => {
    const started = performance.now();
    try {
      await writeGeneratedCode(appDir);
    } catch (e) {
      out.error(`✖ codegen failed: ${(e as Error).message}`);
    }
    let bundle: AppBundle;
    try {
      bundle = await bundleApp(appDir);
    } catch (e) {
      out.error(`✖ ${reason}: ${(e as Error).message}\n  (${notPushed()})`);
      return;
    }
    watcher.add(bundle.inputs);
    let checked = "";
    if (typechecker !== null) {
      out.info(`${reason}: checking types before pushing…`);
      const result = await typechecker.check();
      if (result.kind === "superseded") return;
      if (result.kind === "failed") {
        out.error(typeErrorReport(result.errors, result.output, notPushed()));
        return;
      }
      if (result.kind === "unavailable") {
        if (mode === "enable") {
          out.error(`✖ ${result.reason}\n  Not pushed: \`--typecheck=enable\` requires a type check (\`--typecheck=try\` pushes unchecked code).`);
          return;
        }
        if (!warnedUnchecked) out.info(`⚠ ${result.reason} Pushing without a type check.`);
        warnedUnchecked = true;
      } else checked = ", types OK";
    }
    if (dirty || closed) return;
    let definition: AppDefinition;
    try {
      definition = await options.push(bundle);
    } catch (e) {
      if (!isCodeProblem(e)) {
        closed = true;
        options.onFatal?.(e);
        return;
      }
      const what = isEngineError(e, "SchemaValidationFailed") ? "schema push refused" : "push failed";
      out.error(`✖ ${what}: ${(e as Error).message}\n  (${notPushed()})`);
      return;
    }
    pushedOnce = true;
    const ms = Math.round(performance.now() - started);
    out.info(`✔ ${reason}: ${definition.functions.size} functions ready in ${ms} ms${checked}`);
  };

  // One round at a time; edits during a round stop its type check and trigger exactly one more.
  let roundDone: Promise<void> = Promise.resolve();
  const schedule = (reason: string) => {
    if (closed) return;
    if (running) {
      dirty = true;
      typechecker?.cancel();
      return;
    }
    running = true;
    roundDone = (async () => {
      let why = reason;
      do {
        dirty = false;
        await rebuild(why);
        why = "changes while pushing";
      } while (dirty && !closed);
      running = false;
    })();
  };

  const watcher = watchFolder(appDir, (files) => schedule(files.length === 1 ? `${files[0]} changed` : `${files.length} files changed (${files.join(", ")})`));
  schedule("initial push");
  // Edits are seen from when the watcher's first scan is done.
  const firstRound = Promise.all([roundDone, watcher.ready]).then(() => undefined);
  return {
    firstRound,
    async close() {
      closed = true;
      typechecker?.cancel();
      await watcher.close();
      await roundDone;
      await typechecker?.stop();
    },
  };
}

/** Errors in the app's code or schema, which a save can fix; anything else (a port in use, a locked data folder) ends the session. */
function isCodeProblem(e: unknown): boolean {
  return isEngineError(e) && e.recovery !== "fatal" && e.code !== "DataFolderInUse";
}

/** The terminal report of a failed type check, as `npx convex dev` words it. */
function typeErrorReport(errors: TypeError[], output: string, notPushed: string): string {
  const lines = errors.map((e) => {
    const where = e.file === "" ? "" : `${path.relative(process.cwd(), e.file)}:${e.line}:${e.column}: `;
    return `  ${where}type error ${e.message.replace(/\n/g, "\n  ")}`;
  });
  if (lines.length === 0) lines.push(output.split("\n").map((l) => `  ${l}`).join("\n"));
  return [
    `✖ TypeScript typecheck via \`tsc\` failed (${errors.length === 1 ? "1 error" : `${errors.length} errors`}): ${notPushed}.`,
    ...lines,
    "  To ignore failing typecheck, use `--typecheck=disable`.",
  ].join("\n");
}
