import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { parseEnv } from "node:util";
import { writeGeneratedCode } from "../codegen/generate-code.js";
import { startDevSession, type DevSession } from "../dev/dev-session.js";
import { createEngine, type Engine } from "../engine.js";
import { EngineError } from "../errors.js";
import type { CallRecord } from "../runtime/runtime.js";
import { publishRunningEngine } from "./running-engine.js";
import { dataDirOption, parseCommand, portOption, sizeOption } from "./cli-options.js";

/** `start`: serves a functions folder until SIGINT/SIGTERM. */
export function startCommand(argv: string[]): Promise<number> {
  return serve(argv, false);
}

/**
 * `dev`: `start --dev`, plus what `npx convex dev` does: codegen, watching the
 * folder and pushing every change, function logs streamed to the terminal.
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
    "max-upload-size": { type: "string" },
    "allowed-host": { type: "string", multiple: true },
    "allow-remote-dev-token": { type: "boolean" },
  });
  const dataDir = dataDirOption(values.data);
  const appDir = path.resolve(typeof values.functions === "string" ? values.functions : "convex");
  const dev = watch || values.dev === true;
  // Files first, so --env NAME=VALUE on the command line wins.
  const env: Record<string, string> = envFiles((values["env-file"] as string[] | undefined) ?? []);
  for (const pair of (values.env as string[] | undefined) ?? []) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new EngineError("BadArguments", `--env expects NAME=VALUE, got "${pair}".`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  if (watch) await writeGeneratedCode(appDir);
  // createEngine takes the data folder's lock; a second engine is refused there.
  const engine: Engine = await createEngine({
    appDir,
    dataDir,
    host: typeof values.host === "string" ? values.host : undefined,
    port: portOption(values.port, 3210, "port"),
    sitePort: portOption(values["site-port"], 3211, "site-port"),
    env,
    dev,
    storage: { maxUploadBytes: sizeOption(values["max-upload-size"], "max-upload-size") },
    allowedHosts: allowedHostsOption(values["allowed-host"]),
    remoteDevToken: values["allow-remote-dev-token"] === true,
    onFunctionLog: watch ? (fn, level, line) => process.stdout.write(`${timestamp()} [${fn}] ${level} ${line}\n`) : undefined,
    onCall: watch ? printFailure : undefined,
  });
  const unpublish = publishRunningEngine(dataDir, { cloudUrl: engine.cloudUrl, siteUrl: engine.siteUrl, adminKey: engine.adminKey });
  process.stdout.write(
    `ready: API ${engine.cloudUrl}  site ${engine.siteUrl}  dashboard ${engine.cloudUrl}/dashboard  ` +
      `data ${dataDir}${dev ? "  (dev mode)" : ""}\n` +
      `admin key: ${engine.adminKey}\n`,
  );
  let session: DevSession | null = null;
  if (watch) {
    session = startDevSession({
      engine,
      appDir,
      typecheck: values.typecheck !== "disable",
      out: {
        info: (line) => process.stdout.write(`${timestamp()} ${line}\n`),
        error: (line) => process.stdout.write(`${timestamp()} ${line}\n`),
      },
    });
    process.stdout.write(`watching ${appDir} for changes\n`);
  }
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  process.stdout.write("stopping…\n");
  session?.close();
  unpublish();
  await engine.close();
  process.stdout.write("stopped\n");
  return 0;
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

function timestamp(): string {
  return new Date().toISOString().slice(11, 19);
}
