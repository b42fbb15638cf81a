import { ConvexClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import WebSocket from "ws";
import { startTestEngine, type TestEngine } from "./support/test-engine";

const FIXTURE = fileURLToPath(new URL("fixtures/basic/convex", import.meta.url));
const byAuthor = makeFunctionReference<"query", { author: string }, { body: string }[]>("messages:byAuthor");

/**
 * The dashboard's writes (`/api/admin/documents/*`, `scheduler/cancel`,
 * `files/*`) and its event stream: admin key only, the same commit path as a
 * mutation (schema-checked, live queries re-run), all or nothing, and clear
 * refusals that change nothing.
 */
describe("admin writes", () => {
  let running: TestEngine;
  const call = async (route: string, body?: unknown, key: string | null = running.engine.adminKey) => {
    const response = await fetch(`${running.engine.cloudUrl}/api/admin/${route}`, {
      method: body === undefined ? "GET" : "POST",
      headers: key === null ? {} : { Authorization: `Convex ${key}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    running = await startTestEngine({ appDir: FIXTURE });
  });
  afterAll(async () => running?.close());

  test("every new endpoint needs the admin key", async () => {
    for (const [route, body] of [
      ["documents/insert", { table: "messages", fields: { author: "x", body: "y" } }],
      ["documents/replace", { id: "x", fields: {} }],
      ["documents/delete", { ids: ["x"] }],
      ["scheduler/cancel", { id: "x" }],
      ["files/delete", { id: "x" }],
      ["schema", undefined],
      ["events", undefined],
      ["calls?after=0", undefined],
    ] as const) {
      for (const key of [null, "local|wrong"]) {
        const answer = await call(route, body, key);
        expect(answer, route).toMatchObject({ status: 403, body: { code: "AdminKeyRequired" } });
      }
    }
    expect(running.engine.store.count("messages")).toBe(0);
  });

  test("an inserted document reaches an open subscription, like a mutation's", async () => {
    const client = new ConvexClient(running.engine.cloudUrl, { webSocketConstructor: WebSocket as unknown as typeof globalThis.WebSocket, logger: false });
    try {
      const seen: { body: string }[][] = [];
      let notify: () => void = () => {};
      client.onUpdate(byAuthor, { author: "dash" }, (rows) => {
        seen.push(rows);
        notify();
      });
      const until = (check: () => boolean) =>
        new Promise<void>((resolve) => {
          notify = () => check() && resolve();
          notify();
        });
      await until(() => seen.length === 1);
      const inserted = await call("documents/insert", { table: "messages", fields: { author: "dash", body: "from the dashboard" } });
      expect(inserted.status).toBe(200);
      await until(() => seen.at(-1)?.[0]?.body === "from the dashboard");
      const id = inserted.body.id as string;
      expect((await call("documents/replace", { id, fields: { author: "dash", body: "edited" } })).status).toBe(200);
      await until(() => seen.at(-1)?.[0]?.body === "edited");
    } finally {
      await client.close();
    }
  });

  test("a document the schema refuses, a system table, unknown ids and bad filters are refused and change nothing", async () => {
    const before = running.engine.store.lastCommitTs();
    const count = running.engine.store.count("messages");
    expect(await call("documents/insert", { table: "messages", fields: { author: "x", body: 7 } })).toMatchObject({
      status: 400,
      body: { message: expect.stringMatching(/does not match the schema/) },
    });
    expect((await call("documents/insert", { table: "_storage", fields: {} })).body.message).toMatch(/system table/);
    const [existing] = (await call("documents?table=messages")).body.documents as { _id: string }[];
    const unknown = `${existing!._id.slice(0, -4)}zzzz`;
    const mixed = await call("documents/delete", { ids: [existing!._id, unknown] });
    expect(mixed.status).toBeGreaterThanOrEqual(400);
    expect(running.engine.store.get(existing!._id)).not.toBeNull();
    expect((await call("documents/replace", { id: existing!._id, fields: { author: "x" } })).body.message).toMatch(/does not match the schema/);
    expect((await call(`documents?table=messages&filter=${encodeURIComponent('[{"field":"author","op":"like","value":"x"}]')}`)).status).toBe(400);
    expect((await call("scheduler/cancel", { id: existing!._id })).body.message).toMatch(/not the id of a scheduled function/);
    expect(running.engine.store.lastCommitTs()).toBe(before);
    expect(running.engine.store.count("messages")).toBe(count);
  });

  test("filters and index order run as a query would", async () => {
    for (const [author, body] of [["bo", "b"], ["al", "a"], ["cy", "c"]]) await call("documents/insert", { table: "messages", fields: { author, body } });
    const page = await call(`documents?table=messages&index=by_author&order=asc&filter=${encodeURIComponent('[{"field":"author","op":"lt","value":"cy"}]')}`);
    expect((page.body.documents as { author: string }[]).map((d) => d.author)).toEqual(["al", "bo"]);
    expect(page.body.total).toBeNull();
  });
});
