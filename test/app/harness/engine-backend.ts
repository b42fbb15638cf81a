import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { jsonToConvex, type JSONValue } from "convex/values";
import { api } from "../../../convex/_generated/api";
import { startTestEngine, type TestEngine } from "../../support/app-engine";
import { startTestIssuer, type TestIssuer } from "../../../packages/engine/test/support/test-issuer";
import type { AppBackend, AppClient, BackendFactory } from "./backend";

/**
 * The app on our own engine, reached the way a front end reaches it: the
 * official `ConvexHttpClient` over loopback HTTP, signed in with real JWTs from
 * a test OIDC issuer (as Clerk would be), HTTP actions on the site URL, uploads
 * POSTed to the URL `generateUploadUrl` returned. Inspection (`documents`) and
 * operator actions (env vars, draining the scheduler) use the admin API.
 */


let issuer: Promise<TestIssuer> | null = null;

/** One issuer per test process, standing in for Clerk. */
function sharedIssuer(): Promise<TestIssuer> {
  issuer ??= startTestIssuer();
  return issuer;
}

class EngineBackend implements AppBackend {
  readonly name = "engine";
  private readonly clients = new Map<string, AppClient>();
  private clockOffsetMs = 0;

  constructor(
    private readonly running: TestEngine,
    private readonly issuer: TestIssuer,
  ) {}

  private get cloudUrl(): string {
    return this.running.engine.cloudUrl;
  }

  client(clerkId: string | null): AppClient {
    const key = clerkId ?? "";
    let client = this.clients.get(key);
    if (client === undefined) {
      const http = new ConvexHttpClient(this.cloudUrl, { logger: false });
      client =
        clerkId === null
          ? (http as unknown as AppClient)
          : withToken(http, this.issuer.mint({ sub: clerkId, email: `${clerkId}@example.com`, name: "Test User" }));
      this.clients.set(key, client);
    }
    return client;
  }

  live(clerkId: string | null): ConvexClient {
    const client = new ConvexClient(this.cloudUrl, { logger: false });
    if (clerkId !== null) {
      const token = this.issuer.mint({ sub: clerkId, email: `${clerkId}@example.com`, name: "Test User" });
      client.setAuth(() => token);
    }
    return client;
  }

  admin(): AppClient {
    const client = new ConvexHttpClient(this.cloudUrl, { logger: false });
    (client as unknown as { setAdminAuth(key: string): void }).setAdminAuth(this.running.engine.adminKey);
    return client as unknown as AppClient;
  }

  fetchSite(path: string, init?: RequestInit): Promise<Response> {
    return fetch(`${this.running.engine.siteUrl}${path}`, init);
  }

  async upload(clerkId: string, bytes: Uint8Array, contentType: string): Promise<string> {
    const url = await this.client(clerkId).mutation(api.posts.generateUploadUrl);
    const response = await fetch(url, { method: "POST", headers: { "Content-Type": contentType }, body: bytes as unknown as BodyInit });
    const text = await response.text();
    if (!response.ok) throw new Error(`upload failed with ${response.status}: ${text}`);
    return (JSON.parse(text) as { storageId: string }).storageId;
  }

  fetchUrl(url: string): Promise<Response> {
    return fetch(url);
  }

  async drainScheduled(): Promise<void> {
    const result = (await this.adminApi("POST", "scheduler/drain", {})) as { clockOffsetMs: number };
    this.clockOffsetMs = result.clockOffsetMs;
  }

  async settle(): Promise<void> {
    await this.adminApi("POST", "scheduler/drain", { advanceClock: false });
  }

  async insertDocuments(table: string, documents: Record<string, unknown>[]): Promise<string[]> {
    // An operator's import: straight into the store, in one transaction.
    const { engine } = this.running;
    return await engine.app.runtime.transact(() => documents.map((doc) => engine.store.insert(table, doc as never)));
  }

  /** The deployment clock runs ahead of ours by what the last drain moved it. */
  async now(): Promise<number> {
    return Date.now() + this.clockOffsetMs;
  }

  async documents(table: string): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    let cursor: string | null = null;
    do {
      const query = new URLSearchParams({ table, limit: "1000" });
      if (cursor !== null) query.set("cursor", cursor);
      const page = (await this.adminApi("GET", `documents?${query}`)) as {
        documents: Record<string, unknown>[];
        nextCursor: string | null;
      };
      out.push(...page.documents.map(decodeDocument));
      cursor = page.nextCursor;
    } while (cursor !== null);
    return out;
  }

  async setEnv(name: string, value: string | null): Promise<void> {
    await this.adminApi("POST", "env", { name, value });
  }

  async close(): Promise<void> {
    // Photo processing may still run; let it finish before the data folder goes.
    await this.settle();
    await this.running.close();
  }

  private async adminApi(method: string, route: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`${this.cloudUrl}/api/admin/${route}`, {
      method,
      headers: { Authorization: `Convex ${this.running.engine.adminKey}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`admin ${method} ${route} failed with ${response.status}: ${text}`);
    return JSON.parse(text);
  }
}

/** Sets the client's token once the issuer has signed it. */
function withToken(client: ConvexHttpClient, token: Promise<string>): AppClient {
  const ready = token.then((t) => client.setAuth(t));
  const call =
    (method: "query" | "mutation" | "action") =>
    async (...args: unknown[]) => {
      await ready;
      return (client[method] as (...a: unknown[]) => Promise<unknown>)(...args);
    };
  return { query: call("query"), mutation: call("mutation"), action: call("action") } as unknown as AppClient;
}

/** Admin documents arrive as Convex JSON; tests compare plain values. */
function decodeDocument(doc: Record<string, unknown>): Record<string, unknown> {
  return jsonToConvex(doc as JSONValue) as Record<string, unknown>;
}

/** Fresh engine deployments of the app. */
export const engineBackend: BackendFactory = {
  name: "engine",
  async create() {
    const testIssuer = await sharedIssuer();
    const running = await startTestEngine({ env: { CLERK_JWT_ISSUER_DOMAIN: testIssuer.issuer } });
    return new EngineBackend(running, testIssuer);
  },
};
