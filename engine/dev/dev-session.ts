import path from "node:path";
import { writeGeneratedCode } from "../codegen/generate-code.js";
import type { Engine } from "../engine.js";
import { isEngineError } from "../errors.js";
import { bundleApp } from "../runtime/app-bundler.js";
import { watchFolder } from "./folder-watcher.js";
import { createTypechecker } from "./typecheck.js";

/** Where a dev session reports (the terminal in `npm run dev`). */
export interface DevOutput {
  info(line: string): void;
  error(line: string): void;
}

/** A running `dev`: watching, rebuilding, pushing. */
export interface DevSession {
  close(): void;
}

/**
 * `npx convex dev` on the engine: on every change of the functions folder,
 * regenerate `_generated/`, rebuild, push the schema and swap the functions in
 * (clients stay connected; their queries re-run on the new code). A build
 * error or a refused schema is printed with file and line, and the previous
 * code keeps serving. Type errors are checked after each push and printed.
 */
export function startDevSession(options: { engine: Engine; appDir: string; out: DevOutput; typecheck?: boolean }): DevSession {
  const { engine, appDir, out } = options;
  const typechecker = options.typecheck === false ? null : createTypechecker(appDir);
  let dirty = false;
  let running = false;

  const rebuild = async (reason: string) => {
    const started = performance.now();
    try {
      await writeGeneratedCode(appDir);
    } catch (e) {
      out.error(`codegen failed: ${(e as Error).message}`);
    }
    let bundle;
    try {
      bundle = await bundleApp(appDir);
    } catch (e) {
      out.error(`✖ ${(e as Error).message}\n  (the previous functions keep serving)`);
      return;
    }
    try {
      const definition = await engine.reload(bundle);
      const ms = Math.round(performance.now() - started);
      out.info(`✔ ${reason}: ${definition.functions.size} functions ready in ${ms} ms`);
    } catch (e) {
      const what = isEngineError(e, "SchemaValidationFailed") ? "schema push refused" : "push failed";
      out.error(`✖ ${what}: ${(e as Error).message}\n  (the previous functions keep serving)`);
      return;
    }
    if (typechecker?.available) {
      void typechecker.run().then((errors) => {
        if (errors === null) return;
        if (errors.length === 0) out.info("✔ types OK");
        for (const e of errors) out.error(`type error ${path.relative(process.cwd(), e.file)}:${e.line}:${e.column}: ${e.message}`);
      });
    }
  };

  // One rebuild at a time; edits during a rebuild trigger exactly one more.
  const schedule = (reason: string) => {
    if (running) {
      dirty = true;
      return;
    }
    running = true;
    void (async () => {
      let why = reason;
      do {
        dirty = false;
        await rebuild(why);
        why = "changes while rebuilding";
      } while (dirty);
      running = false;
    })();
  };

  const watcher = watchFolder(appDir, (files) => schedule(files.length === 1 ? `${files[0]} changed` : `${files.length} files changed`));
  return {
    close() {
      watcher.close();
      typechecker?.stop();
    },
  };
}
