/// <reference types="vite/client" />
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import http from "../../convex/http";

/**
 * Static promises about `convex/` that no backend run would show: it stays a
 * genuine Convex app (imports, generated files), every read goes through an
 * index and is bounded, and the function surface front ends call exists with
 * the right kind and visibility.
 */

const convexDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../convex");

function sourceFiles(dir = convexDir): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) {
      if (name !== "_generated") files.push(...sourceFiles(full));
    } else if (/\.(ts|js)$/.test(name)) {
      files.push(full);
    }
  }
  return files.sort();
}

const relative = (file: string) => path.relative(convexDir, file).replace(/\\/g, "/");
const sources = sourceFiles().map((file) => ({ file: relative(file), text: readFileSync(file, "utf8") }));

/** Module paths as `npx convex codegen` lists them (its entry-point rules). */
function modulePaths(): string[] {
  return sources
    .map((s) => s.file)
    .filter((file) => !/^schema\.(ts|js)$/.test(file) && path.basename(file).split(".").length === 2)
    .map((file) => file.replace(/\.(ts|js)$/, ""))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

type Registered = {
  isQuery?: boolean;
  isMutation?: boolean;
  isAction?: boolean;
  isPublic?: boolean;
  isInternal?: boolean;
  exportArgs?: () => string;
  exportReturns?: () => string;
};

// convex.config.ts is not a function module (and its component imports load
// only in a bundler that resolves extensionless paths, as Convex's does).
const loaded = import.meta.glob<Record<string, unknown>>(["../../convex/**/*.ts", "!../../convex/convex.config.ts"], {
  eager: true,
});
function registered(): [string, Registered][] {
  const out: [string, Registered][] = [];
  for (const [file, mod] of Object.entries(loaded)) {
    if (file.includes("/_generated/")) continue;
    const modulePath = file.replace("../../convex/", "").replace(/\.ts$/, "");
    for (const [name, value] of Object.entries(mod)) {
      const fn = value as Registered;
      if (fn && (fn.isQuery || fn.isMutation || fn.isAction)) out.push([`${modulePath}:${name}`, fn]);
    }
  }
  return out;
}

/** The npm packages `convex/` may import (all in package.json's dependencies). */
const PACKAGES = [
  "@convex-dev/rate-limiter",
  "@convex-dev/rate-limiter/convex.config.js",
  "convex/server",
  "convex/values",
  "svix",
];

describe("convex/ source", () => {
  it("imports only convex/server, convex/values, svix, the rate limiter component and its own files", () => {
    const seen = new Set<string>();
    for (const { file, text } of sources) {
      for (const [, spec] of text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+"([^"]+)";/gms)) {
        seen.add(spec.startsWith(".") ? "(relative)" : spec);
        const ok = spec.startsWith(".") || PACKAGES.includes(spec);
        expect(ok, `${file} imports ${spec}`).toBe(true);
      }
    }
    expect([...seen].sort()).toEqual(["(relative)", ...PACKAGES].sort());
  });

  it("reads every table through an index, and always a bounded amount", () => {
    for (const { file, text } of sources) {
      expect(text, `${file} collects a whole result`).not.toMatch(/\.collect\(\)/);
      expect(text, `${file} filters a query instead of using an index`).not.toMatch(/q\.field\(/);
      for (const match of text.matchAll(/\.query\("[^"]+"\)/g)) {
        const chain = text.slice(match.index, text.indexOf(";", match.index));
        expect(chain, `${file}: ${chain.slice(0, 80)}`).toMatch(/\.with(Search)?Index\(/);
        expect(chain, `${file}: ${chain.slice(0, 80)}`).toMatch(/\.(take|first|unique|paginate)\(/);
      }
    }
  });

  it("keeps every file under 300 lines", () => {
    for (const { file, text } of sources) expect(text.split("\n").length, file).toBeLessThan(300);
  });

  it("validates the arguments and the result of every function", () => {
    const fns = registered();
    expect(fns.length).toBeGreaterThan(30);
    for (const [name, fn] of fns) {
      expect(JSON.parse(fn.exportArgs!()).type, `${name} args`).toBe("object");
      expect(JSON.parse(fn.exportReturns!()), `${name} returns`).not.toBeNull();
    }
  });

  it("offers the common front ends' surface and our additions, public; user creation stays internal", () => {
    const byName = new Map(registered());
    const surface: [string, "query" | "mutation"][] = [
      ["users:getUserByClerkId", "query"], ["users:updateProfile", "mutation"], ["users:getUserProfile", "query"],
      ["users:isFollowing", "query"], ["users:toggleFollow", "mutation"], ["users:getFollowers", "query"],
      ["users:getFollowing", "query"], ["users:searchUsers", "query"], ["users:deleteAccount", "mutation"],
      ["users:getCurrentUser", "query"], ["posts:generateUploadUrl", "mutation"], ["posts:createPost", "mutation"],
      ["posts:getFeedPosts", "query"], ["posts:toggleLike", "mutation"], ["posts:deletePost", "mutation"],
      ["posts:getPostsByUser", "query"], ["posts:getPost", "query"], ["posts:getGlobalFeed", "query"],
      ["posts:getFollowingFeed", "query"], ["posts:getLikers", "query"], ["posts:updateCaption", "mutation"],
      ["posts:searchPosts", "query"], ["posts:getPostsByHashtag", "query"],
      ["comments:addComment", "mutation"], ["comments:getComments", "query"], ["comments:deleteComment", "mutation"],
      ["notifications:getNotifications", "query"], ["notifications:getUnreadCount", "query"],
      ["notifications:markAllRead", "mutation"], ["notifications:markRead", "mutation"],
      ["bookmarks:toggleBookmark", "mutation"], ["bookmarks:getBookmarkedPosts", "query"],
    ];
    for (const [name, kind] of surface) {
      const fn = byName.get(name);
      expect(fn, name).toBeDefined();
      expect(kind === "query" ? fn!.isQuery : fn!.isMutation, `${name} is a ${kind}`).toBe(true);
      expect(fn!.isPublic, `${name} is public`).toBe(true);
    }
    expect(byName.get("users:createUser")?.isInternal).toBe(true);
    const publicOnes = [...byName].filter(([, fn]) => fn.isPublic).map(([name]) => name);
    expect(publicOnes.sort()).toEqual(surface.map(([name]) => name).sort());
    expect(http.lookup("/clerk-webhook", "POST")).not.toBeNull();
  });
});

describe("convex/_generated", () => {
  const generated = path.join(convexDir, "_generated");
  const read = (name: string) => readFileSync(path.join(generated, name), "utf8");

  it("has the files `npx convex codegen` writes for a project with a schema", () => {
    expect(readdirSync(generated).sort()).toEqual(["api.d.ts", "api.js", "dataModel.d.ts", "server.d.ts", "server.js"]);
    expect(read("dataModel.d.ts")).toContain("export type DataModel = DataModelFromSchemaDefinition<typeof schema>;");
    expect(read("api.js")).toMatch(/export const api = anyApi;\s+export const internal = anyApi;\s+export const components = componentsGeneric\(\);/);
    for (const builder of ["query", "internalQuery", "mutation", "internalMutation", "action", "internalAction", "httpAction"]) {
      expect(read("server.d.ts")).toContain(`export declare const ${builder}:`);
      expect(read("server.js")).toContain(`export const ${builder} =`);
    }
  });

  it("api.d.ts lists exactly the modules in convex/, as codegen would", () => {
    const text = read("api.d.ts");
    const identifier = (m: string) => m.replace(/[/-]/g, "_");
    const keyOf = (m: string) => (/^[A-Za-z0-9_]+$/.test(m) ? m : `"${m}"`);
    const imports = [...text.matchAll(/^import type \* as (\w+) from "\.\.\/(.+)\.js";$/gm)].map((m) => [m[1], m[2]]);
    expect(imports).toEqual(modulePaths().map((m) => [identifier(m), m]));
    const keys = [...text.matchAll(/^ {2}("?[\w/-]+"?): typeof (\w+);$/gm)].map((m) => [m[1], m[2]]);
    expect(keys).toEqual(modulePaths().map((m) => [keyOf(m), identifier(m)]));
    expect(text).toContain('export declare const api: FilterApi<\n  typeof fullApi,\n  FunctionReference<any, "public">\n>;');
    expect(text).toContain('export declare const internal: FilterApi<\n  typeof fullApi,\n  FunctionReference<any, "internal">\n>;');
    // convex.config.ts installs the rate limiter; codegen types it from the package.
    expect(text).toContain(
      'export declare const components: {\n  rateLimiter: import("@convex-dev/rate-limiter/_generated/component.js").ComponentApi<"rateLimiter">;\n};',
    );
  });
});
