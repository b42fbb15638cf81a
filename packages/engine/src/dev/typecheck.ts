import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { TYPECHECK_WORKER_SOURCE } from "./typecheck-worker.js";

/**
 * `--typecheck` as `npx convex dev` takes it: `enable` refuses to push when
 * the functions cannot be type-checked at all (no tsconfig.json, no
 * TypeScript), `try` (the default) then pushes unchecked, `disable` never
 * checks. In both `enable` and `try`, a type error stops the push.
 */
export type TypecheckMode = "enable" | "try" | "disable";

/** The modes, for parsing the flag. */
export const TYPECHECK_MODES: readonly TypecheckMode[] = ["enable", "try", "disable"];

/** One type error as `tsc` reports it (`file` is absolute; empty for errors without a place). */
export interface TypeError {
  file: string;
  line: number;
  column: number;
  /** `TS2322: Type 'string' is not assignable to type 'number'.` and its continuation lines. */
  message: string;
}

/** The outcome of one check. */
export type TypecheckResult =
  | { kind: "passed" }
  | { kind: "failed"; errors: TypeError[]; output: string }
  /** Nothing to check with: no tsconfig.json in the folder, or no TypeScript installed. */
  | { kind: "unavailable"; reason: string }
  /** A newer check started before this one finished; only the latest code matters. */
  | { kind: "superseded" };

/** Type-checks a functions folder. */
export interface Typechecker {
  check(): Promise<TypecheckResult>;
  /** Whatever check is running now is no longer wanted: it resolves `superseded`. */
  cancel(): void;
  /** Ends the checker (its worker thread). */
  stop(): Promise<void>;
}

/**
 * Type-checks `<folder>/tsconfig.json` as `tsc --noEmit -p` would, on a
 * worker thread, so a check never blocks serving. The worker keeps the
 * program between checks (`typecheck-worker.ts`): the first check takes as
 * long as `tsc`, later ones only re-check what a save affected.
 */
export function createTypechecker(appDir: string): Typechecker {
  const typescript = findTypescript(appDir);
  const config = path.join(appDir, "tsconfig.json");
  let worker: Worker | null = null;
  let generation = 0;
  let nextId = 0;
  const waiting = new Map<number, (answer: WorkerAnswer) => void>();

  const start = (): Worker => {
    const started = new Worker(TYPECHECK_WORKER_SOURCE, { eval: true, workerData: { typescript, config } });
    started.on("message", (answer: WorkerAnswer) => {
      waiting.get(answer.id)?.(answer);
      waiting.delete(answer.id);
    });
    // A crashed worker fails the checks it owed; the next check starts a fresh one.
    started.on("error", (e) => settleAll(`The type checker stopped: ${e.message}`));
    started.on("exit", () => {
      if (worker === started) worker = null;
      settleAll("The type checker stopped.");
    });
    return started;
  };
  const settleAll = (failure: string) => {
    for (const [id, settle] of waiting) settle({ id, failure });
    waiting.clear();
  };

  return {
    async check() {
      if (!existsSync(config)) {
        return {
          kind: "unavailable",
          reason: `Found no ${path.relative(process.cwd(), config) || "tsconfig.json"} to use to typecheck Convex functions (\`npx convex codegen --init\` writes one).`,
        };
      }
      if (typescript === null) return { kind: "unavailable", reason: "TypeScript is not installed (npm install --save-dev typescript)." };
      const mine = ++generation;
      worker ??= start();
      const id = nextId++;
      const answer = await new Promise<WorkerAnswer>((resolve) => {
        waiting.set(id, resolve);
        worker!.postMessage({ id });
      });
      if (mine !== generation) return { kind: "superseded" };
      if ("failure" in answer) return { kind: "unavailable", reason: answer.failure };
      if (answer.errors.length === 0) return { kind: "passed" };
      return { kind: "failed", errors: answer.errors, output: answer.errors.map((e) => e.message).join("\n") };
    },
    cancel() {
      generation++;
    },
    async stop() {
      generation++;
      const running = worker;
      worker = null;
      await running?.terminate();
    },
  };
}

type WorkerAnswer = { id: number; errors: TypeError[] } | { id: number; failure: string };

/** The app's own TypeScript if it has one, else the engine's. */
function findTypescript(appDir: string): string | null {
  for (const base of [path.join(appDir, "package.json"), import.meta.url]) {
    try {
      return createRequire(base).resolve("typescript");
    } catch {
      // try the next place
    }
  }
  return null;
}
