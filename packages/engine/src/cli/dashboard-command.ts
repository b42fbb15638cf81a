import { EngineError } from "../errors.js";
import { findRunningEngine } from "./running-engine.js";
import { dataDirOption, parseCommand } from "./cli-options.js";

/** `dashboard`: where the running engine's dashboard is, and the key to log in with (like `npx convex dashboard`). */
export async function dashboardCommand(argv: string[]): Promise<number> {
  const { values } = parseCommand(argv, {});
  const dataDir = dataDirOption(values.data);
  const running = findRunningEngine(dataDir);
  if (running === null) {
    throw new EngineError("NotRunning", `No engine is serving ${dataDir}. Start one with \`npm start\` (or \`npm run dev\`).`);
  }
  process.stdout.write(`dashboard: ${running.cloudUrl}/dashboard\nadmin key: ${running.adminKey}\n`);
  return 0;
}
