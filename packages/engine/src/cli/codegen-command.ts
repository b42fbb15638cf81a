import path from "node:path";
import { writeGeneratedCode } from "../codegen/generate-code.js";
import { functionsDirOption, parseCommand } from "./cli-options.js";

/** `codegen`: writes `<functions>/_generated/` as `npx convex codegen` would. */
export async function codegenCommand(argv: string[]): Promise<number> {
  const { values } = parseCommand(argv, {});
  const appDir = functionsDirOption(values.functions);
  const written = await writeGeneratedCode(appDir);
  process.stdout.write(
    written.length === 0
      ? `${path.relative(process.cwd(), appDir) || "."}/_generated is up to date\n`
      : `wrote ${written.map((f) => `_generated/${f}`).join(", ")}\n`,
  );
  return 0;
}
