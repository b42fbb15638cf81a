import { existsSync } from "node:fs";
import path from "node:path";
import { isDataFolderLocked } from "../data-folder.js";
import { DeploymentEnv } from "../deployment-env.js";
import { EngineError } from "../errors.js";
import { withOfflineStore } from "./offline-store.js";
import { adminRequest, findRunningEngine } from "./running-engine.js";
import { dataDirOption, parseCommand } from "./cli-options.js";

/**
 * `env list | set NAME VALUE | remove NAME`: through the running engine's
 * admin API when one serves the data folder (so it sees the change at once),
 * else directly in the data folder.
 */
export async function envCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, {});
  const dataDir = dataDirOption(values.data);
  const [action, name, value] = positionals;
  const change = parseChange(action, name, value, positionals.length);
  const running = findRunningEngine(dataDir);
  let env: Record<string, string>;
  // Only `set` may start a data folder (before the first start); a mistyped --data must not create one.
  if (running === null && change?.value == null && !existsSync(path.join(dataDir, "db.sqlite3")) && !isDataFolderLocked(dataDir)) {
    throw new EngineError("NoDataFolder", `No engine data at ${dataDir} (--data): it has no db.sqlite3, so no env vars are set there.`);
  }
  const unknown = (names: Record<string, string>) =>
    new EngineError("UnknownEnvVar", `No env var named ${change!.name} is set in ${dataDir}${nameHint(change!.name, names)}. \`env list\` shows the names.`);
  if (running !== null) {
    const current = ((await adminRequest(running, "GET", "env")) as { env: Record<string, string> }).env;
    if (change?.value === null && !(change.name in current)) throw unknown(current);
    if (change !== null) await adminRequest(running, "POST", "env", change);
    env = ((await adminRequest(running, "GET", "env")) as { env: Record<string, string> }).env;
  } else {
    env = await withOfflineStore(dataDir, (store) => {
      const deploymentEnv = new DeploymentEnv(store, { name: "local", cloudUrl: "", siteUrl: "" });
      if (change?.value === null && !(change.name in deploymentEnv.list())) throw unknown(deploymentEnv.list());
      if (change !== null) deploymentEnv.set(change.name, change.value);
      return deploymentEnv.list();
    });
  }
  if (change === null) {
    for (const [k, v] of Object.entries(env).sort()) process.stdout.write(`${k}=${v}\n`);
  } else {
    process.stdout.write(change.value === null ? `removed ${change.name}\n` : `set ${change.name}\n`);
  }
  return 0;
}

/** `(did you mean GREETING?)` when a set name differs only in case. */
function nameHint(name: string, names: Record<string, string>): string {
  const close = Object.keys(names).find((n) => n.toLowerCase() === name.toLowerCase());
  return close === undefined ? "" : ` (did you mean ${close}?)`;
}

function parseChange(action: string | undefined, name: string | undefined, value: string | undefined, count: number) {
  switch (action) {
    case "list":
      if (count !== 1) break;
      return null;
    case "set":
      if (count !== 3 || name === undefined || value === undefined) break;
      return { name, value };
    case "remove":
    case "unset":
      if (count !== 2 || name === undefined) break;
      return { name, value: null };
  }
  throw new EngineError("BadArguments", "Usage: env list | env set NAME VALUE | env remove NAME");
}
