#!/usr/bin/env node
// The README's test command ends here: it type-checks the project, runs every
// vitest suite and prints one plain summary line, `N passed, N failed`, which
// CI reads (vitest's own summary is not machine-readable for it).
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, existsSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => path.join(root, "node_modules", ".bin", name);
const run = (cmd, args) =>
  spawnSync(cmd, args, { cwd: root, stdio: "inherit", env: process.env });

let passed = 0;
let failed = 0;

for (const step of preSteps()) {
  console.log(`\n> ${step.name}`);
  const result = run(step.cmd, step.args);
  if (result.status === 0) passed += 1;
  else {
    failed += 1;
    console.log(`${step.name} failed (exit ${result.status})`);
  }
}

const reportDir = path.join(root, "test-results");
mkdirSync(reportDir, { recursive: true });
const reportFile = path.join(reportDir, "vitest.json");
rmSync(reportFile, { force: true });
const extra = process.argv.slice(2);
const vitest = run(bin("vitest"), [
  "run",
  "--reporter=default",
  "--reporter=json",
  `--outputFile.json=${reportFile}`,
  ...extra,
]);

if (existsSync(reportFile)) {
  const report = JSON.parse(readFileSync(reportFile, "utf8"));
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
  // A suite that fails to load has no tests to count; count it as a failure.
  for (const suite of report.testResults ?? []) {
    if (suite.status === "failed" && (suite.assertionResults ?? []).length === 0) {
      failed += 1;
    }
  }
} else {
  failed += 1;
  console.log("vitest wrote no report");
}
if (vitest.status !== 0 && failed === 0) failed += 1;

console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);

function preSteps() {
  return [
    { name: "typecheck (tsc --noEmit)", cmd: bin("tsc"), args: ["--noEmit", "-p", "tsconfig.json"] },
    // The dashboard's end-to-end tests drive Debian's Chromium (never a downloaded browser).
    { name: "ensure chromium", cmd: "bash", args: [path.join(root, "scripts", "ensure-chromium.sh")] },
    // Builds dist/cli.mjs once, before tests spawn engine processes in parallel.
    { name: "build the engine CLI", cmd: process.execPath, args: [path.join(root, "bin", "convex-local.mjs"), "help"] },
  ];
}
