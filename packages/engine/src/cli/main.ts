import { codegenCommand } from "./codegen-command.js";
import { dashboardCommand } from "./dashboard-command.js";
import { envCommand } from "./env-command.js";
import { exportCommand, importCommand } from "./snapshot-commands.js";
import { devCommand, startCommand } from "./start-command.js";
import { tokenCommand } from "./token-command.js";

const USAGE = `Usage: convex-local <command> [options]

Commands:
  start     Serve a Convex functions folder (API, WebSocket, HTTP actions)
              --functions DIR   functions folder (default: ./convex)
              --data DIR        data folder (default: ./data)
              --port N          API port (default 3210)
              --site-port N     HTTP actions port (default 3211)
              --host ADDR       interface to bind (default 127.0.0.1; 0.0.0.0 for phones on the LAN)
              --public-url URL  API origin clients use, in upload and file URLs and CONVEX_CLOUD_URL
                                (env CONVEX_CLOUD_ORIGIN; default: the bound address, or the LAN
                                address with --host 0.0.0.0)
              --public-site-url URL  HTTP actions origin (env CONVEX_SITE_ORIGIN; default: the
                                public URL's host on the site port)
              --env NAME=VALUE  set a deployment env var (repeatable)
              --env-file FILE   set the deployment env vars a dotenv file lists (repeatable;
                                keeps secrets off the command line; --env wins)
              --allowed-host NAME  answer requests for this host name too (repeatable;
                                .NAME allows subdomains, all allows any; loopback names
                                and IP addresses always work)
              --dev             dev mode: clients see function error messages; POST
                                /api/dev/token mints tokens (admin key, loopback only)
              --allow-remote-dev-token  keep /api/dev/token on when --host is not loopback
  dev       start --dev, plus watch: codegen, rebuild, type-check and push on every change, function logs
              (same options as start)
              --typecheck MODE  enable | try | disable (default try): a type error is never pushed;
                                try pushes unchecked when there is nothing to check with
  env       Deployment env vars: env list | env set NAME VALUE | env remove NAME   [--data DIR]
  dashboard Print the running engine's dashboard URL and admin key [--data DIR]
  codegen   Write <functions>/_generated/ (api, server, dataModel) [--functions DIR]
  export    Snapshot ZIP as \`npx convex export\` writes it: --path FILE.zip [--include-file-storage] [--data DIR]
  import    Read such a ZIP (ids kept): --path FILE.zip [--replace | --append] [--data DIR]
  token     Mint a dev-issuer token: token --subject ID [--name N] [--email E] [--ttl SECONDS] [--data DIR] [--port N]
`;

/** Runs one CLI command; resolves with the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "start":
        return await startCommand(rest);
      case "dev":
        return await devCommand(rest);
      case "env":
        return await envCommand(rest);
      case "token":
        return await tokenCommand(rest);
      case "codegen":
        return await codegenCommand(rest);
      case "dashboard":
        return await dashboardCommand(rest);
      case "export":
        return await exportCommand(rest);
      case "import":
        return await importCommand(rest);
      case undefined:
      case "help":
      case "--help":
      case "-h":
        process.stdout.write(USAGE);
        return command === undefined ? 1 : 0;
      default:
        process.stderr.write(`Unknown command "${command}".\n\n${USAGE}`);
        return 1;
    }
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
