import { makeFunctionReference } from "convex/server";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, test } from "vitest";
import { adminClient } from "./support/admin-client";
import { startTestEngine, type TestEngine } from "./support/test-engine";

const APP = fileURLToPath(new URL("fixtures/values-app/convex", import.meta.url));
let running: TestEngine;
beforeAll(async () => {
  running = await startTestEngine({ appDir: APP });
});
afterAll(async () => running?.close());

test("a nested mutation that fails takes its file deletion with it, even when the caller catches", async () => {
  const url = `${running.engine.cloudUrl}/api/storage/upload?token=${encodeURIComponent(await running.engine.app.runtime.blobs!.issueUploadToken())}`;
  const upload = await fetch(url, { method: "POST", headers: { "Content-Type": "image/png" }, body: "bytes" });
  const { storageId } = (await upload.json()) as { storageId: string };
  const admin = adminClient(running.engine.cloudUrl, running.engine.adminKey);
  expect(await admin.mutation(makeFunctionReference<"mutation">("things:tryDelete"), { id: storageId })).toBe("kept");
  const served = await fetch(`${running.engine.cloudUrl}/api/storage/${storageId}`);
  expect(served.status).toBe(200);
  expect(await served.text()).toBe("bytes");
});
