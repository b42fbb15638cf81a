import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { generateCode, writeGeneratedCode } from "../../packages/engine/src/codegen/generate-code";
import { createTypechecker, type Typechecker } from "../../packages/engine/src/dev/typecheck";
import { APP_DIR } from "../support/app-engine";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const COMPONENTS_APP = fileURLToPath(new URL("../../packages/engine/test/fixtures/components/convex", import.meta.url));

/** `npm run codegen`: `_generated/` as `npx convex codegen` writes it, and typed calls against it. */
describe("codegen", () => {
  test("regenerates the app's committed _generated/ byte for byte", async () => {
    for (const [name, content] of await generateCode(APP_DIR)) {
      expect(content, name).toBe(readFileSync(path.join(APP_DIR, "_generated", name), "utf8"));
    }
  });

  test("regenerates the components fixture's _generated/ byte for byte, with one ComponentApi per installed component", async () => {
    const files = await generateCode(COMPONENTS_APP);
    for (const [name, content] of files) {
      expect(content, name).toBe(readFileSync(path.join(COMPONENTS_APP, "_generated", name), "utf8"));
    }
    // Packages are named by their import specifier, a folder by its path from `_generated/`.
    expect(files.get("api.d.ts")).toContain(
      'export declare const components: {\n  rateLimiter: import("@convex-dev/rate-limiter/_generated/component.js").ComponentApi<"rateLimiter">;\n',
    );
    expect(files.get("api.d.ts")).toContain('  probe: import("../../../probe-component/_generated/component.js").ComponentApi<"probe">;\n};\n');
  });

  describe("on a new app", () => {
    let project: string;
    let checker: Typechecker;
    beforeAll(async () => {
      project = mkdtempSync(path.join(tmpdir(), "codegen-"));
      symlinkSync(path.join(ROOT, "node_modules"), path.join(project, "node_modules"));
      cpSync(path.join(APP_DIR, "tsconfig.json"), path.join(project, "convex", "tsconfig.json"), { recursive: true });
      writeFileSync(
        path.join(project, "convex", "schema.ts"),
        `import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";
export default defineSchema({ pets: defineTable({ name: v.string(), age: v.number() }) });
`,
      );
      writeFileSync(
        path.join(project, "convex", "pets.ts"),
        `import { v } from "convex/values";
import { mutation, query } from "./_generated/server";
export const add = mutation({
  args: { name: v.string(), age: v.number() },
  handler: async (ctx, args) => ctx.db.insert("pets", args),
});
export const byName = query({
  args: { name: v.string() },
  handler: async (ctx, { name }) => (await ctx.db.query("pets").collect()).filter((p) => p.name === name),
});
`,
      );
      expect((await writeGeneratedCode(path.join(project, "convex"))).sort()).toEqual(
        ["api.d.ts", "api.js", "dataModel.d.ts", "server.d.ts", "server.js"],
      );
      // A second run has nothing to write (watch mode relies on this).
      expect(await writeGeneratedCode(path.join(project, "convex"))).toEqual([]);
      writeFileSync(
        path.join(project, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: { strict: true, noEmit: true, module: "ESNext", moduleResolution: "Bundler", target: "ES2022", skipLibCheck: true, lib: ["ES2022", "DOM"] },
          include: ["client.ts", "convex"],
        }),
      );
      checker = createTypechecker(project);
    });
    afterAll(async () => {
      await checker?.stop();
      rmSync(project, { recursive: true, force: true });
    });

    /**
     * `tsc -p tsconfig.json` on the project, as its output reads (`file(line,col): error TS…`).
     * The dev server's checker does what `tsc --noEmit -p` does but keeps the program between
     * checks, so declaration files (convex's, the DOM library) are parsed once for all of them
     * rather than once per `tsc` process.
     */
    const typecheck = async (client: string) => {
      writeFileSync(path.join(project, "client.ts"), client);
      const result = await checker.check();
      if (result.kind === "passed") return "";
      if (result.kind !== "failed") throw new Error(`type check did not run: ${JSON.stringify(result)}`);
      return result.errors.map((e) => `${path.relative(project, e.file)}(${e.line},${e.column}): error ${e.message}`).join("\n");
    };

    test("a typed call through the generated api type-checks, and a wrong one does not", async () => {
      const good = `import { ConvexHttpClient } from "convex/browser";
import { api } from "./convex/_generated/api";
import type { Id } from "./convex/_generated/dataModel";
const client = new ConvexHttpClient("http://127.0.0.1:3210");
export async function demo(): Promise<string> {
  const id: Id<"pets"> = await client.mutation(api.pets.add, { name: "Rex", age: 3 });
  const pets = await client.query(api.pets.byName, { name: "Rex" });
  return id + pets[0]!.name.toUpperCase() + pets[0]!.age.toFixed(0);
}
`;
      expect(await typecheck(good)).toBe("");
      const bad = good.replace('{ name: "Rex", age: 3 }', '{ name: "Rex", age: "three" }');
      expect(await typecheck(bad)).toMatch(/client\.ts\(\d+,\d+\): error TS2322/);
      const missing = good.replace("api.pets.byName", "api.pets.nope");
      expect(await typecheck(missing)).toMatch(/Property 'nope' does not exist/);
    }, 120_000);

    test("with a convex.config.ts, typed references to an installed component type-check, and wrong ones do not", async () => {
      const appDir = path.join(project, "convex");
      writeFileSync(
        path.join(appDir, "convex.config.ts"),
        `import { defineApp } from "convex/server";
import rateLimiter from "@convex-dev/rate-limiter/convex.config.js";
const app = defineApp();
app.use(rateLimiter, { name: "limits" });
export default app;
`,
      );
      expect(await writeGeneratedCode(appDir)).toEqual(["api.d.ts"]);
      const good = `import { components } from "./convex/_generated/api";
import { mutation } from "./convex/_generated/server";
export const take = mutation({
  args: {},
  handler: async (ctx): Promise<boolean> => {
    const status = await ctx.runMutation(components.limits.lib.rateLimit, {
      name: "demo",
      config: { kind: "token bucket", rate: 1, period: 1000 },
    });
    return status.ok;
  },
});
`;
      expect(await typecheck(good)).toBe("");
      // One run for both mistakes: an argument the component's validator does not take, a name not installed.
      const body = good.slice(good.indexOf("export const"));
      const wrong =
        good.replace('kind: "token bucket"', 'kind: "leaky bucket"') + body.replace("take", "other").replace("components.limits", "components.rateLimiter");
      const errors = await typecheck(wrong);
      expect(errors).toMatch(/client\.ts\(\d+,\d+\): error TS2322/);
      expect(errors).toMatch(/Property 'rateLimiter' does not exist/);
    }, 120_000);
  });
});
