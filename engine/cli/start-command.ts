import path from "node:path";
import { writeGeneratedCode } from "../codegen/generate-code.js";
import { startDevSession, type DevSession } from "../dev/dev-session.js";
import { createEngine, type Engine } from "../engine.js";
import { EngineError } from "../errors.js";
import type { CallRecord } from "../runtime/runtime.js";
import { claimDataFolder } from "./running-engine.js";
import { dataDirOption, parseCommand, portOption } from "./cli-options.js";

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
    dev: { type: "boolean" },
    typecheck: { type: "string" },
    "allowed-host": { type: "string", multiple: true },
    "allow-remote-dev-token": { type: "boolean" },
  });
  const dataDir = dataDirOption(values.data);
  const appDir = path.resolve(typeof values.functions === "string" ? values.functions : "convex");
  const dev = watch || values.dev === true;
  const env: Record<string, string> = {};
  for (const pair of (values.env as string[] | undefined) ?? []) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new EngineError("BadArguments", `--env expects NAME=VALUE, got "${pair}".`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  if (watch) writeGeneratedCode(appDir);
  const claim = claimDataFolder(dataDir);
  let engine: Engine;
  try {
    engine = await createEngine({
      appDir,
      dataDir,
      host: typeof values.host === "string" ? values.host : undefined,
      port: portOption(values.port, 3210, "port"),
      sitePort: portOption(values["site-port"], 3211, "site-port"),
      env,
      dev,
      allowedHosts: allowedHostsOption(values["allowed-host"]),
      remoteDevToken: values["allow-remote-dev-token"] === true,
      onFunctionLog: watch ? (fn, level, line) => process.stdout.write(`${timestamp()} [${fn}] ${level} ${line}\n`) : undefined,
      onCall: watch ? printFailure : undefined,
    });
  } catch (e) {
    claim.release();
    throw e;
  }
  claim.publish({ cloudUrl: engine.cloudUrl, siteUrl: engine.siteUrl, adminKey: engine.adminKey });
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
  await engine.close();
  claim.release();
  process.stdout.write("stopped\n");
  return 0;
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
