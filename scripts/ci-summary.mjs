#!/usr/bin/env node
// Prints the plain closing line CI reads ("N passed, N failed[, N skipped]") from vitest's
// JSON report, and exits non-zero when anything failed. Counts what vitest's own totals
// miss: a file whose beforeAll/afterAll failed (its tests show as skipped, none as failed),
// and, when LAMBDA_IMAGE_REQUIRE_DOCKER=1, any skipped test in a Docker test file.
import { readFileSync } from 'node:fs';

const [reportPath] = process.argv.slice(2);
let report;
try {
  report = JSON.parse(readFileSync(reportPath, 'utf8'));
} catch (err) {
  console.log(`no test report (${err.message})`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const requireDocker = process.env.LAMBDA_IMAGE_REQUIRE_DOCKER === '1';
let passed = 0;
let failed = 0;
let skipped = 0;
const problems = [];
for (const file of report.testResults ?? []) {
  const name = file.name.replace(process.cwd() + '/', '');
  const results = file.assertionResults ?? [];
  const fileFailed = results.filter((a) => a.status === 'failed').length;
  for (const a of results) {
    if (a.status === 'passed') passed++;
    else if (a.status === 'failed') failed++;
    else if (requireDocker && /\.docker\.test\.ts$/.test(name)) {
      failed++;
      problems.push(
        `${name}: "${a.fullName}" was skipped, but LAMBDA_IMAGE_REQUIRE_DOCKER=1 requires Docker tests to run`,
      );
    } else skipped++;
  }
  // A failing hook fails the file without failing any test: count it.
  if (file.status === 'failed' && fileFailed === 0) {
    failed++;
    problems.push(
      `${name}: the file failed outside its tests (a hook or an import): ${(file.message || '').split('\n')[0]}`,
    );
  }
}
if (report.success === false && failed === 0) {
  failed++;
  problems.push('vitest reported the run as failed');
}
for (const p of problems) console.log(`ci: ${p}`);
console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ''));
process.exit(failed ? 1 : 0);
