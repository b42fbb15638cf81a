import path from "node:path";
import { createEngine } from "../engine.js";
import { EngineError } from "../errors.js";
import { claimDataFolder } from "./running-engine.js";
import { dataDirOption, parseCommand, portOption } from "./cli-options.js";

/** `start`: serves a functions folder until SIGINT/SIGTERM. */
export async function startCommand(argv: string[]): Promise<number> {
  const { values } = parseCommand(argv, {
    env: { type: "string", multiple: true },
    dev: { type: "boolean" },
  });
  const dataDir = dataDirOption(values.data);
  const env: Record<string, string> = {};
  for (const pair of (values.env as string[] | undefined) ?? []) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new EngineError("BadArguments", `--env expects NAME=VALUE, got "${pair}".`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const claim = claimDataFolder(dataDir);
  let engine: Awaited<ReturnType<typeof createEngine>>;
  try {
    engine = await createEngine({
    appDir: path.resolve(typeof values.functions === "string" ? values.functions : "convex"),
    dataDir,
    host: typeof values.host === "string" ? values.host : undefined,
    port: portOption(values.port, 3210, "port"),
    sitePort: portOption(values["site-port"], 3211, "site-port"),
    env,
    dev: values.dev === true,
    });
  } catch (e) {
    claim.release();
    throw e;
  }
  claim.publish({ cloudUrl: engine.cloudUrl, siteUrl: engine.siteUrl, adminKey: engine.adminKey });
  process.stdout.write(
    `ready: API ${engine.cloudUrl}  site ${engine.siteUrl}  dashboard ${engine.cloudUrl}/dashboard  ` +
      `data ${dataDir}${values.dev ? "  (dev mode)" : ""}\n` +
      `admin key: ${engine.adminKey}\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  process.stdout.write("stopping…\n");
  await engine.close();
  claim.release();
  process.stdout.write("stopped\n");
  return 0;
}
