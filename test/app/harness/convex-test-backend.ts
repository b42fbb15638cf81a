/// <reference types="vite/client" />
import rateLimiterTest from "@convex-dev/rate-limiter/test";
import { convexTest } from "convex-test";
import { getFunctionName, type FunctionReference } from "convex/server";
import { vi } from "vitest";
import { api } from "../../../convex/_generated/api";
import schema from "../../../convex/schema";
import type { AppBackend, AppClient, BackendFactory } from "./backend";

/**
 * The app on convex-test, Convex's in-memory mock backend. Where the app
 * depends on behaviour the mock leaves out, this factory supplies it, so the
 * suites see what a real deployment would do:
 *
 * - Visibility: convex-test lets any caller run internal functions; a real
 *   deployment refuses them to clients. `client()` checks, `admin()` does not.
 * - Uploads: the mock's upload URLs are fake and its `_storage` rows have no
 *   `contentType`. `upload()` gets a URL from the app (so the app records its
 *   upload ticket), stores the bytes as the upload endpoint would, and writes
 *   the Content-Type onto the `_storage` row as the real backend does.
 * - File URLs: the mock's `storage.getUrl` answers `…/api/storage/<sha256>`
 *   without serving anything; `fetchUrl()` serves the file with that digest.
 * - Time: fake timers (this file only), so `drainScheduled()` can run jobs
 *   due hours ahead (the orphan-upload sweep) by moving the clock forward.
 *   The clock stands still otherwise; nothing scheduled runs before a drain.
 *   While it stands still, convex-test gives each insert the next 0.001 ms,
 *   so `_creationTime` runs ahead of `Date.now()`; the app never compares
 *   the two at less than an hour's scale (markAllRead once did, and failed
 *   here only).
 * - Environment: deployment env vars are `process.env` entries, stubbed per
 *   test and cleared at create so each deployment starts without any.
 * - Components: convex-test runs a component only once it is registered;
 *   the rate limiter's package provides the registration.
 */

const modules = import.meta.glob("../../../convex/**/*.*s");
const MODULE_ROOT = "../../../convex/";
const ISSUER = "https://clerk.test";
const STORAGE_URL_PREFIX = "https://some-deployment.convex.cloud/api/storage/";
/** The env vars the app reads; a fresh deployment has none of them. */
const APP_ENV_VARS = ["CLERK_WEBHOOK_SECRET", "CLERK_JWT_ISSUER_DOMAIN", "RATE_LIMIT_SCALE"];

type ConvexTest = ReturnType<typeof convexTest>;
type AnyRef = FunctionReference<"query" | "mutation" | "action", "public" | "internal">;

/** Whether the function behind `ref` is internal, read from its registration. */
async function isInternal(ref: AnyRef): Promise<boolean> {
  const [modulePath, exportName = "default"] = getFunctionName(ref).split(":");
  const entry = Object.entries(modules).find(
    ([file]) => file.slice(MODULE_ROOT.length).replace(/\.[^.]+$/, "") === modulePath,
  );
  if (entry === undefined) return false;
  const exported = ((await entry[1]()) as Record<string, unknown>)[exportName];
  return (exported as { isInternal?: boolean } | undefined)?.isInternal === true;
}

function makeClient(accessor: ConvexTest, publicOnly: boolean): AppClient {
  const guard = async (ref: AnyRef) => {
    if (publicOnly && (await isInternal(ref))) {
      throw new Error(`Could not find public function for '${getFunctionName(ref)}'.`);
    }
  };
  // The generic signatures are enforced by AppClient; convex-test's own
  // overloads are looser, so the calls go through untyped.
  const loose = accessor as unknown as Record<
    "query" | "mutation" | "action",
    (ref: AnyRef, args?: unknown) => Promise<unknown>
  >;
  return {
    query: (async (ref: AnyRef, args?: unknown) => {
      await guard(ref);
      return await loose.query(ref, args ?? {});
    }) as AppClient["query"],
    mutation: (async (ref: AnyRef, args?: unknown) => {
      await guard(ref);
      return await loose.mutation(ref, args ?? {});
    }) as AppClient["mutation"],
    action: (async (ref: AnyRef, args?: unknown) => {
      await guard(ref);
      return await loose.action(ref, args ?? {});
    }) as AppClient["action"],
  };
}

class ConvexTestBackend implements AppBackend {
  readonly name = "convex-test";

  constructor(private readonly t: ConvexTest) {}

  client(clerkId: string | null): AppClient {
    if (clerkId === null) return makeClient(this.t, true);
    const signedIn = this.t.withIdentity({
      subject: clerkId,
      issuer: ISSUER,
      tokenIdentifier: `${ISSUER}|${clerkId}`,
    });
    return makeClient(signedIn as unknown as ConvexTest, true);
  }

  admin(): AppClient {
    return makeClient(this.t, false);
  }

  async fetchSite(path: string, init?: RequestInit): Promise<Response> {
    return await this.t.fetch(path, init);
  }

  async upload(clerkId: string, bytes: Uint8Array, contentType: string): Promise<string> {
    await this.client(clerkId).mutation(api.posts.generateUploadUrl);
    const copy = new Uint8Array(bytes);
    return await this.t.run(async (ctx) => {
      const storageId = await ctx.storage.store(new Blob([copy], { type: contentType }));
      await (ctx.db as unknown as PatchAny).patch(storageId, { contentType });
      return storageId;
    });
  }

  async fetchUrl(url: string): Promise<Response> {
    if (!url.startsWith(STORAGE_URL_PREFIX)) return new Response("not a storage URL", { status: 404 });
    const sha256 = url.slice(STORAGE_URL_PREFIX.length);
    const file = await this.t.run(async (ctx) => {
      const rows = await ctx.db.system.query("_storage").collect();
      const row = rows.find((candidate) => candidate.sha256 === sha256);
      const blob = row === undefined ? null : await ctx.storage.get(row._id);
      if (row === undefined || blob === null) return null;
      return { bytes: await blob.arrayBuffer(), contentType: row.contentType ?? null };
    });
    if (file === null) return new Response("file not found", { status: 404 });
    const headers: Record<string, string> = {};
    if (file.contentType !== null) headers["Content-Type"] = file.contentType;
    return new Response(file.bytes, { status: 200, headers });
  }

  async drainScheduled(): Promise<void> {
    // Batched clean-ups reschedule themselves many times; allow plenty.
    await this.t.finishAllScheduledFunctions(() => vi.runAllTimers(), 100_000);
  }

  async documents(table: string): Promise<Record<string, unknown>[]> {
    return await this.t.run(async (ctx) => {
      const reader = ctx.db as unknown as ReadAny;
      const source = table.startsWith("_") ? reader.system.query(table) : reader.query(table);
      return await source.collect();
    });
  }

  async now(): Promise<number> {
    // Functions see the same (fake) Date as this process.
    return Date.now();
  }

  async setEnv(name: string, value: string | null): Promise<void> {
    vi.stubEnv(name, value ?? undefined);
  }

  async close(): Promise<void> {
    await this.t.finishInProgressScheduledFunctions();
    vi.unstubAllEnvs();
    vi.useRealTimers();
  }
}

type PatchAny = { patch(id: string, value: Record<string, unknown>): Promise<void> };
type Collectable = { collect(): Promise<Record<string, unknown>[]> };
type ReadAny = { query(table: string): Collectable; system: { query(table: string): Collectable } };


/** Fresh convex-test deployments of the app. */
export const convexTestBackend: BackendFactory = {
  name: "convex-test",
  async create() {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"] });
    for (const name of APP_ENV_VARS) vi.stubEnv(name, undefined);
    const t = convexTest(schema, modules);
    // The app's component, registered as its package documents for convex-test.
    rateLimiterTest.register(t);
    return new ConvexTestBackend(t);
  },
};
