#!/usr/bin/env node
// The README's test command ends here: it type-checks the project, runs every
// vitest suite and prints one plain summary line, `N passed, N failed`, which
// CI reads (vitest's own summary is not machine-readable for it).
//
// The type check runs alongside vitest rather than before it: it is one
// CPU-bound process (~20 s of CPU), while most suites spend their time waiting
// on sockets, child processes and timers, so on CI's two cores the two overlap
// almost for free. Its output is held back and printed after vitest's, so the
// two never interleave.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, existsSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => path.join(root, "node_modules", ".bin", name);
const run = (cmd, args) =>
  spawnSync(cmd, args, { cwd: root, stdio: "inherit", env: process.env });

let passed = 0;
let failed = 0;
const count = (name, status) => {
  if (status === 0) passed += 1;
  else {
    failed += 1;
    console.log(`${name} failed (exit ${status})`);
  }
};

for (const step of preSteps()) {
  console.log(`\n> ${step.name}`);
  count(step.name, run(step.cmd, step.args).status);
}

const typecheck = startCaptured("typecheck (tsc --noEmit)", bin("tsc"), ["--noEmit", "-p", "tsconfig.json"]);

const reportDir = path.join(root, "test-results");
mkdirSync(reportDir, { recursive: true });
const reportFile = path.join(reportDir, "vitest.json");
rmSync(reportFile, { force: true });
const extra = process.argv.slice(2);
console.log("\n> vitest (the type check runs alongside; its result follows)");
// Spawned asynchronously so this process keeps draining the type check's output meanwhile.
const vitest = await new Promise((resolve) => {
  const child = spawn(
    bin("vitest"),
    ["run", "--reporter=default", "--reporter=json", `--outputFile.json=${reportFile}`, ...extra],
    { cwd: root, stdio: "inherit", env: process.env },
  );
  child.once("error", () => resolve({ status: null }));
  child.once("close", (code, signal) => resolve({ status: code ?? signal }));
});

if (existsSync(reportFile)) {
  const report = JSON.parse(readFileSync(reportFile, "utf8"));
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
  // A suite can fail with no failed test of its own: it failed to load, or a
  // beforeAll/afterAll hook threw (its tests then read "skipped" or "passed").
  // Each such suite counts as one failure, so a broken run never reads as green.
  for (const suite of report.testResults ?? []) {
    const testFailed = (suite.assertionResults ?? []).some((t) => t.status === "failed");
    if (suite.status === "failed" && !testFailed) failed += 1;
  }
} else {
  failed += 1;
  console.log("vitest wrote no report");
}
if (vitest.status !== 0 && failed === 0) failed += 1;

const checked = await typecheck;
console.log(`\n> ${checked.name}`);
process.stdout.write(checked.output);
count(checked.name, checked.status);

console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);

/** Starts a command with its output captured; resolves with its exit status and output once it ends. */
function startCaptured(name, cmd, args) {
  const child = spawn(cmd, args, { cwd: root, env: process.env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  return new Promise((resolve) => {
    child.once("error", (e) => resolve({ name, status: null, output: `${String(e)}\n` }));
    child.once("close", (code, signal) => resolve({ name, status: code ?? signal, output }));
  });
}

function preSteps() {
  return [
    // The dashboard's end-to-end tests drive Debian's Chromium (never a downloaded browser).
    { name: "ensure chromium", cmd: "bash", args: [path.join(root, "packages", "engine", "scripts", "ensure-chromium.sh")] },
    // Builds dist/cli.mjs once, before tests spawn engine processes in parallel.
    { name: "build the engine CLI", cmd: process.execPath, args: [path.join(root, "packages", "engine", "bin", "convex-local.mjs"), "help"] },
  ];
}
