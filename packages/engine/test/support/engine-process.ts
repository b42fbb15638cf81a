import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../bin/convex-local.mjs", import.meta.url));

/** An engine running as its own process (the way `npm start` runs it). */
export interface EngineProcess {
  child: ChildProcess;
  cloudUrl: string;
  siteUrl: string;
  adminKey: string;
  /** Everything it printed, for failure messages. */
  output(): string;
  /** Sends a signal and waits for the process to exit; resolves with its exit code or signal. */
  stop(signal?: NodeJS.Signals): Promise<number | NodeJS.Signals | null>;
}

/**
 * Starts `convex-local start` on random ports and waits for its `ready` line.
 * Rejects with the process output if it exits first.
 */
export function spawnEngine(options: {
  appDir: string;
  dataDir: string;
  env?: Record<string, string>;
  dev?: boolean;
  extraArgs?: string[];
  /** Extra environment variables of the engine process itself. */
  processEnv?: Record<string, string>;
}): Promise<EngineProcess> {
  const args = [BIN, "start", "--functions", options.appDir, "--data", options.dataDir, "--port", "0", "--site-port", "0"];
  for (const [k, v] of Object.entries(options.env ?? {})) args.push("--env", `${k}=${v}`);
  if (options.dev) args.push("--dev");
  args.push(...(options.extraArgs ?? []));
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...options.processEnv } });
  let output = "";
  child.stderr!.on("data", (d) => (output += String(d)));
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) =>
    child.once("exit", (code, signal) => resolve(signal ?? code)),
  );
  return new Promise((resolve, reject) => {
    let adminKey = "";
    let urls: { cloudUrl: string; siteUrl: string } | null = null;
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      output += line + "\n";
      const ready = /^ready: API (\S+)\s+site (\S+)/.exec(line);
      if (ready) urls = { cloudUrl: ready[1]!, siteUrl: ready[2]! };
      // With a public URL the engine also says where this machine reaches it.
      const local = /^local: API (\S+)\s+site (\S+)/.exec(line);
      if (local) urls = { cloudUrl: local[1]!, siteUrl: local[2]! };
      const key = /^admin key: (\S+)/.exec(line);
      if (key) adminKey = key[1]!;
      if (urls !== null && adminKey !== "") {
        const found = urls;
        resolve({
          child,
          ...found,
          adminKey,
          output: () => output,
          async stop(signal = "SIGTERM") {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            return exited;
          },
        });
        urls = null;
      }
    });
    void exited.then((code) => reject(new Error(`engine exited (${String(code)}) before it was ready:\n${output}`)));
  });
}
