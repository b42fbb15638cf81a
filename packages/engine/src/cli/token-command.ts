import { createDevIssuer } from "../auth/dev-issuer.js";
import { EngineError, isEngineError } from "../errors.js";
import { ttlSeconds } from "../http/token-request.js";
import { adminRequest, findRunningEngine } from "./running-engine.js";
import { dataDirOption, parseCommand, portOption } from "./cli-options.js";

/**
 * `token --subject ID`: a JWT from the engine's dev issuer, for trying the app
 * without Clerk (`Authorization: Bearer …` or `client.setAuth`).
 */
export async function tokenCommand(argv: string[]): Promise<number> {
  const { values } = parseCommand(argv, {
    subject: { type: "string" },
    name: { type: "string" },
    email: { type: "string" },
    ttl: { type: "string" },
  });
  if (typeof values.subject !== "string" || values.subject === "") {
    throw new EngineError("BadArguments", "token needs --subject <user id> (e.g. a Clerk user id like user_123).");
  }
  const claims = {
    subject: values.subject,
    name: typeof values.name === "string" ? values.name : undefined,
    email: typeof values.email === "string" ? values.email : undefined,
  };
  const ttl = values.ttl === undefined ? undefined : ttlOption(values.ttl);
  const dataDir = dataDirOption(values.data);
  const running = findRunningEngine(dataDir);
  let token: string;
  if (running !== null) {
    token = ((await adminRequest(running, "POST", "token", { ...claims, ttlSeconds: ttl })) as { token: string }).token;
  } else {
    const port = portOption(values.port, 3210, "port");
    const issuer = await createDevIssuer({ dataDir, issuerUrl: `http://127.0.0.1:${port}/dev-auth`, clock: () => Date.now() });
    token = await issuer.mint(claims, ttl);
  }
  process.stdout.write(`${token}\n`);
  return 0;
}

/** `--ttl SECONDS`, checked here so a bad value fails the same way with or without a running engine. */
function ttlOption(raw: unknown): number {
  try {
    return ttlSeconds(raw);
  } catch (e) {
    if (isEngineError(e)) throw new EngineError("BadArguments", `--ttl: ${e.message}`);
    throw e;
  }
}
