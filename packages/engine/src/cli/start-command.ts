import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { parseEnv } from "node:util";
import { startDevSession, type DevSession } from "../dev/dev-session.js";
import { TYPECHECK_MODES, type TypecheckMode } from "../dev/typecheck.js";
import { createEngine, type Engine, type EngineOptions } from "../engine.js";
import { EngineError } from "../errors.js";
import type { AppBundle } from "../runtime/app-bundler.js";
import type { CallRecord } from "../runtime/runtime.js";
import { publishRunningEngine } from "./running-engine.js";
import { dataDirOption, functionsDirOption, parseCommand, portOption, sizeOption } from "./cli-options.js";

/** `start`: serves a functions folder until SIGINT/SIGTERM. */
export function startCommand(argv: string[]): Promise<number> {
  return serve(argv, false);
}

/**
 * `dev`: `start --dev`, plus what `npx convex dev` does: codegen, watching the
 * folder and pushing every change that builds and type-checks, function logs
 * streamed to the terminal.
 */
export function devCommand(argv: string[]): Promise<number> {
  return serve(argv, true);
}

async function serve(argv: string[], watch: boolean): Promise<number> {
  const { values } = parseCommand(argv, {
    env: { type: "string", multiple: true },
    "env-file": { type: "string", multiple: true },
    dev: { type: "boolean" },
    typecheck: { type: "string" },
    "query-workers": { type: "string" },
    "function-timeout": { type: "string" },
    "action-workers": { type: "string" },
    "action-timeout": { type: "string" },
    "max-upload-size": { type: "string" },
    "allowed-host": { type: "string", multiple: true },
    "allow-remote-dev-token": { type: "boolean" },
    "public-url": { type: "string" },
    "public-site-url": { type: "string" },
  });
  const typecheck = typecheckOption(values.typecheck, watch);
  const appDir = functionsDirOption(values.functions);
  const dataDir = dataDirOption(values.data);
  const port = portOption(values.port, 3210, "port");
  const sitePort = portOption(values["site-port"], 3211, "site-port");
  const maxUploadBytes = sizeOption(values["max-upload-size"], "max-upload-size");
  const dev = watch || values.dev === true;
  // Files first, so --env NAME=VALUE on the command line wins.
  const env: Record<string, string> = envFiles((values["env-file"] as string[] | undefined) ?? []);
  for (const pair of (values.env as string[] | undefined) ?? []) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new EngineError("BadArguments", `--env expects NAME=VALUE, got "${pair}".`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const engineOptions = (bundle?: AppBundle): EngineOptions => ({
    appDir,
    dataDir,
    host: typeof values.host === "string" ? values.host : undefined,
    port,
    sitePort,
    // The self-hosted Convex backend reads the same two variables.
    publicUrl: stringOption(values["public-url"]) ?? nonEmpty(process.env.CONVEX_CLOUD_ORIGIN),
    publicSiteUrl: stringOption(values["public-site-url"]) ?? nonEmpty(process.env.CONVEX_SITE_ORIGIN),
    logger: cliLogger(),
    env,
    dev,
    queryWorkers: countOption(values["query-workers"], "query-workers"),
    transactionTimeoutMs: secondsOption(values["function-timeout"], "function-timeout"),
    actionWorkers: countOption(values["action-workers"], "action-workers"),
    actionTimeoutMs: secondsOption(values["action-timeout"], "action-timeout"),
    bundle,
    storage: { maxUploadBytes },
    allowedHosts: allowedHostsOption(values["allowed-host"]),
    remoteDevToken: values["allow-remote-dev-token"] === true,
    onFunctionLog: watch ? (fn, level, line) => process.stdout.write(`${timestamp()} [${fn}] ${level} ${line}\n`) : undefined,
    onCall: watch ? printFailure : undefined,
  });

  // A data folder that start creates is removed again if start fails: a typo in --data leaves nothing behind.
  // createEngine takes the folder's lock; a second engine is refused there.
  const createdDataDir = !existsSync(dataDir);
  let engine: Engine | null = null;
  let unpublish: () => void = () => {};
  const giveUp = (e: unknown): never => {
    if (createdDataDir && engine === null) rmSync(dataDir, { recursive: true, force: true });
    throw startFailure(e, port, sitePort);
  };
  const announce = (started: Engine) => {
    // Other commands on this machine (env, export, dashboard) reach the engine locally.
    unpublish = publishRunningEngine(dataDir, { cloudUrl: started.localCloudUrl, siteUrl: started.localSiteUrl, adminKey: started.adminKey });
    const local =
      started.localCloudUrl === started.cloudUrl && started.localSiteUrl === started.siteUrl
        ? ""
        : `local: API ${started.localCloudUrl}  site ${started.localSiteUrl}\n`;
    process.stdout.write(
      `ready: API ${started.cloudUrl}  site ${started.siteUrl}  dashboard ${started.cloudUrl}/dashboard  ` +
        `data ${dataDir}${dev ? "  (dev mode)" : ""}\n` +
        local +
        `admin key: ${started.adminKey}\n`,
    );
  };

  let session: DevSession | null = null;
  let fatal: unknown = null;
  const stopped = new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    if (!watch) return;
    session = startDevSession({
      appDir,
      typecheck,
      out: {
        info: (line) => process.stdout.write(`${timestamp()} ${line}\n`),
        error: (line) => process.stdout.write(`${timestamp()} ${line}\n`),
      },
      // The engine starts with the first bundle that builds and type-checks, so it never serves code that does not.
      push: async (bundle) => {
        if (engine !== null) return engine.reload(bundle);
        engine = await createEngine(engineOptions(bundle));
        announce(engine);
        return engine.app.definition;
      },
      onFatal: (e) => {
        fatal = e;
        resolve();
      },
    });
    void session.firstRound.then(() => {
      if (engine === null && fatal === null) {
        process.stdout.write(`${timestamp()} waiting: the engine starts serving once the functions build and type-check. Fix the errors above and save.\n`);
      }
    });
    process.stdout.write(`watching ${appDir} for changes\n`);
  });

  if (!watch) {
    try {
      engine = await createEngine(engineOptions());
    } catch (e) {
      giveUp(e);
    }
    announce(engine!);
  }
  await stopped;
  process.stdout.write("stopping…\n");
  await (session as DevSession | null)?.close();
  unpublish();
  await (engine as Engine | null)?.close();
  if (fatal !== null) giveUp(fatal);
  if (createdDataDir && engine === null) rmSync(dataDir, { recursive: true, force: true });
  process.stdout.write("stopped\n");
  return 0;
}

function typecheckOption(raw: unknown, watch: boolean): TypecheckMode {
  if (raw === undefined) return "try";
  if (!watch) throw new EngineError("BadArguments", "--typecheck belongs to `dev` (start pushes nothing).");
  if (!TYPECHECK_MODES.includes(raw as TypecheckMode)) {
    throw new EngineError("BadArguments", `--typecheck must be one of ${TYPECHECK_MODES.join(", ")}, got "${String(raw)}".`);
  }
  return raw as TypecheckMode;
}

/** A start failure in the user's terms: a port in use names the flag that picks another. */
function startFailure(e: unknown, port: number, sitePort: number): unknown {
  const error = e as NodeJS.ErrnoException & { port?: number; address?: string };
  if (error?.code === "EADDRINUSE" || error?.code === "EACCES") {
    const which = error.port === sitePort && error.port !== port ? "--site-port" : "--port";
    const what = which === "--port" ? "API port" : "HTTP actions (site) port";
    const problem = error.code === "EADDRINUSE" ? "is already in use (another engine, or another program?)" : "needs privileges this user lacks";
    return new EngineError(
      "PortUnavailable",
      `The ${what} ${error.port} on ${error.address ?? "127.0.0.1"} ${problem}. Start with ${which} <another port> (e.g. ${which} ${(error.port ?? 3210) + 10}), or stop what uses it.`,
      "fatal",
    );
  }
  return e;
}

/**
 * `--env-file FILE` (dotenv format, parsed by node's `util.parseEnv`): the
 * way to pass secrets such as `CLERK_WEBHOOK_SECRET` without putting them on
 * the command line, where other users see them in the process list.
 */
function envFiles(files: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
      if ((statSync(file).mode & 0o077) !== 0) {
        process.stderr.write(`warning: --env-file ${file} is readable by other users; chmod 600 it if it holds secrets.\n`);
      }
    } catch (e) {
      throw new EngineError("BadArguments", `Cannot read --env-file ${file}: ${(e as Error).message}`);
    }
    Object.assign(env, parseEnv(text));
  }
  return env;
}

/** `--allowed-host NAME` (repeatable; `.NAME` for subdomains too, `all` for any Host). */
function allowedHostsOption(raw: unknown): string[] | true | undefined {
  const names = (raw as string[] | undefined) ?? [];
  if (names.includes("all")) return true;
  return names.length === 0 ? undefined : names;
}

/** In dev mode a failing call is printed with where in the app's source it threw. */
function printFailure(record: CallRecord): void {
  if (record.status !== "error") return;
  const frames = record.errorFrames?.length ? `\n${record.errorFrames.join("\n")}` : "";
  process.stdout.write(`${timestamp()} ✖ ${record.path} failed: ${record.error}${frames}\n`);
}

function stringOption(raw: unknown): string | undefined {
  return typeof raw === "string" ? raw : undefined;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

/** Engine messages on the terminal; warnings (a guessed public URL) go to stderr. */
function cliLogger() {
  return {
    info: (m: string) => process.stdout.write(`${m}\n`),
    warn: (m: string) => process.stderr.write(`warning: ${m}\n`),
    error: (m: string, e?: unknown) => console.error(m, e ?? ""),
  };
}

/** A non-negative whole number flag, or undefined when not given. */
function countOption(raw: unknown, name: string): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 256) throw new EngineError("BadArguments", `--${name} must be a whole number from 0 to 256, got ${String(raw)}.`);
  return n;
}

/** A positive number of seconds, as milliseconds, or undefined when not given. */
function secondsOption(raw: unknown, name: string): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new EngineError("BadArguments", `--${name} must be a positive number of seconds, got ${String(raw)}.`);
  return n * 1000;
}

function timestamp(): string {
  return new Date().toISOString().slice(11, 19);
}
