import { convexToJson, type JSONValue, type Value, type ValidatorJSON } from "convex/values";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ConvexHttpClient } from "convex/browser";
import { internal } from "../../convex/_generated/api";
import type { RegisteredFunction } from "../../packages/engine/src/runtime/function-registry";
import { randomTools, seededRandom } from "../../packages/engine/test/support/seeded-random";
import { startTestEngine, type TestEngine } from "../support/app-engine";
import { adminClient } from "../../packages/engine/test/support/admin-client";
import { startTestIssuer, type TestIssuer } from "../../packages/engine/test/support/test-issuer";

/**
 * Bad input never hurts the engine: ≥10,000 random and ill-typed argument
 * sets, sent over HTTP to every public function of the app, anonymously and
 * as a signed-in user. The engine must keep answering, every answer must be
 * a clear error (or, for a well-typed query, a result), and nothing may be
 * written (the commit clock does not move).
 */
const SEED = 20261124;
const REQUESTS = 10_400;
const CONCURRENCY = 16;

describe("argument fuzzing over HTTP", () => {
  let running: TestEngine;
  let issuer: TestIssuer;
  let token: string;

  beforeAll(async () => {
    issuer = await startTestIssuer();
    running = await startTestEngine({ env: { CLERK_JWT_ISSUER_DOMAIN: issuer.issuer } });
    const admin = adminClient(running.engine.cloudUrl, running.engine.adminKey);
    await admin.mutation(internal.users.createUser, { clerkId: "user_fuzz", username: "fuzzer" });
    await admin.mutation(internal.users.createUser, { clerkId: "user_other", username: "other" });
    token = await issuer.mint({ sub: "user_fuzz" });
  });
  afterAll(async () => {
    await running?.close();
    await issuer?.close();
  });

  test(`${REQUESTS} random argument sets: no crash, clear errors, nothing written`, async () => {
    const engine = running.engine;
    const functions = [...engine.app.definition.functions.values()].filter((f) => f.visibility === "public");
    expect(functions.length).toBeGreaterThan(20);
    const rng = randomTools(seededRandom(SEED));
    const sampleIds = await someIds(engine);
    const tsBefore = engine.store.lastCommitTs();
    const tally = { requests: 0, functionErrors: 0, clientErrors: 0, successes: 0 };

    const one = async (i: number) => {
      const fn = rng.pick(functions);
      const signedIn = i % 2 === 1;
      // Signed-in requests always carry an unknown field, so they can never pass validation.
      const args = fuzzArgs(fn, rng, sampleIds, signedIn);
      const endpoint = rng.chance(0.05) ? rng.pick(["query", "mutation", "action"]) : fn.kind;
      const body = rng.chance(0.03) ? malformedBody(rng) : JSON.stringify({ path: fn.path, args: [args], format: "convex_encoded_json" });
      const response = await fetch(`${engine.cloudUrl}/api/${endpoint}`, {
        method: "POST",
        headers: { "Content-Type": "application/json", ...(signedIn ? { Authorization: `Bearer ${token}` } : {}) },
        body,
      });
      const text = await response.text();
      tally.requests += 1;
      expect(response.status, text).not.toBeGreaterThanOrEqual(500);
      const parsed = JSON.parse(text) as { status?: string; errorMessage?: string; code?: string; message?: string };
      if (response.status !== 200) {
        tally.clientErrors += 1;
        expect(parsed.code && parsed.message, text).toBeTruthy();
        return;
      }
      if (parsed.status === "success") {
        tally.successes += 1;
        expect(signedIn, `${fn.path} accepted ill-typed args ${JSON.stringify(args)}`).toBe(false);
        return;
      }
      tally.functionErrors += 1;
      expect(parsed.status).toBe("error");
      expect(parsed.errorMessage, text).toMatch(/\w{3,}/);
      expect(parsed.errorMessage).not.toMatch(/InternalServerError|couldn't be completed/);
    };

    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < REQUESTS) await one(next++);
      }),
    );
    expect(tally.requests).toBe(REQUESTS);
    // Nothing was committed by any of them.
    expect(engine.store.lastCommitTs()).toBe(tsBefore);
    // The engine still serves a normal call afterwards.
    const check = await fetch(`${engine.cloudUrl}/api/query`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
      body: JSON.stringify({ path: "users:getCurrentUser", args: [{}] }),
    });
    expect(((await check.json()) as { status: string }).status).toBe("success");
    console.log(`fuzz: ${JSON.stringify(tally)}`);
  }, 180_000);
});

type Rng = ReturnType<typeof randomTools>;

/** Arguments for `fn`: sometimes well-typed, mostly not; with `mustFail`, always rejected by validation. */
function fuzzArgs(fn: RegisteredFunction, rng: Rng, ids: Record<string, string>, mustFail: boolean): JSONValue {
  const validator = fn.argsValidator;
  let args: Record<string, Value> = {};
  if (validator !== null && validator.type === "object") {
    for (const [field, spec] of Object.entries(validator.value)) {
      if (spec.optional && rng.chance(0.3)) continue;
      if (rng.chance(0.1)) continue; // a required field goes missing
      args[field] = rng.chance(0.5) ? plausible(spec.fieldType, rng, ids) : junk(rng, ids, 0);
    }
  } else if (rng.chance(0.5)) {
    args = { anything: junk(rng, ids, 0) };
  }
  if (mustFail || rng.chance(0.2)) args[rng.pick(["fuzzExtra", "zzz", "with space", ""])] = junk(rng, ids, 0);
  if (!mustFail && rng.chance(0.05)) return convexToJson(junk(rng, ids, 0));
  return convexToJson(args);
}

/** A value that often matches the validator's type (but rarely its rules). */
function plausible(v: ValidatorJSON, rng: Rng, ids: Record<string, string>): Value {
  switch (v.type) {
    case "string":
      return rng.pick(["", "a", "x".repeat(rng.int(1, 3000)), "héllo 👋", "  spaced  ", "UPPER", "a.b_c9", "\u0000"]);
    case "number":
      return rng.pick([0, -1, 1.5, 1e308, -0, Number.NaN, Number.POSITIVE_INFINITY, 200, 2 ** 53]);
    case "bigint":
      return rng.pick([0n, -1n, 2n ** 63n - 1n]);
    case "boolean":
      return rng.chance(0.5);
    case "null":
      return null;
    case "id":
      return rng.pick([ids[v.tableName] ?? "", ids.users ?? "", "j570pc2nfafw9t8e6dc7v8p7xg8kdsw0", "not-an-id", ""]);
    case "literal":
      return rng.chance(0.7) ? (v.value as Value) : "not the literal";
    case "array":
      return Array.from({ length: rng.int(0, 3) }, () => plausible(v.value, rng, ids));
    case "object": {
      const out: Record<string, Value> = {};
      for (const [k, spec] of Object.entries(v.value)) if (!spec.optional || rng.chance(0.5)) out[k] = plausible(spec.fieldType, rng, ids);
      return out;
    }
    case "union":
      return v.value.length === 0 ? null : plausible(rng.pick(v.value), rng, ids);
    default:
      return junk(rng, ids, 0);
  }
}

/** Any Convex value at all, of any type. */
function junk(rng: Rng, ids: Record<string, string>, depth: number): Value {
  const kinds = depth > 2 ? 8 : 10;
  switch (rng.int(0, kinds - 1)) {
    case 0:
      return null;
    case 1:
      return rng.pick([0, -7.25, Number.NaN, Number.NEGATIVE_INFINITY, 1e-300]);
    case 2:
      return rng.pick([0n, 42n, -(2n ** 63n)]);
    case 3:
      return rng.chance(0.5);
    case 4:
      return rng.pick(["", "🚀", "x".repeat(rng.int(0, 5000)), "$weird", "posts:list"]);
    case 5:
      return new Uint8Array([1, 2, 3]).buffer;
    case 6:
      return rng.pick(Object.values(ids));
    case 7:
      return rng.pick(["kg20pc2nfafw9t8e6dc7v8p7xg8kda2w", "j570pc2nfafw9t8e6dc7v8p7xg8kdsw1"]);
    case 8:
      return Array.from({ length: rng.int(0, 4) }, () => junk(rng, ids, depth + 1));
    default: {
      const out: Record<string, Value> = {};
      for (let i = rng.int(0, 4); i > 0; i--) out[rng.pick(["a", "numItems", "cursor", "postId", "b c"])] = junk(rng, ids, depth + 1);
      return out;
    }
  }
}

function malformedBody(rng: Rng): string {
  return rng.pick(["", "{", "null", "[]", '{"path": 5}', '{"path":"users:getCurrentUser","args":"x"}', '{"args":[{}]}', "\u0000\u0001", '{"path":"nope:nothing","args":[{}]}', '{"path":"users:searchUsers","args":[{"é":1}]}', '{"path":"users:searchUsers","args":[{"$bad":1}]}', '{"path":"posts:getPost","args":[{"postId":{"$integer":"AQ=="}}]}']);
}

/** Real ids of the deployment's tables, so some fuzzed ids decode and point at rows. */
async function someIds(engine: TestEngine["engine"]): Promise<Record<string, string>> {
  const response = await fetch(`${engine.cloudUrl}/api/admin/documents?table=users&limit=5`, {
    headers: { Authorization: `Convex ${engine.adminKey}` },
  });
  const { documents } = (await response.json()) as { documents: { _id: string }[] };
  return { users: documents[0]!._id, other: documents[1]!._id };
}
