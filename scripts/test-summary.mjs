// Prints the counts per vitest run (per engine), the example's figures on each engine side by
// side, and the closing line `N passed, N failed, N skipped` over everything.
//
//   node scripts/test-summary.mjs "unit=.cache/test-results/unit.json" \
//     "compat on Docker 26 (containerd store)=.cache/test-results/compat-containerd.json" \
//     "--missing=Docker 26 (containerd store)"
//   node scripts/test-summary.mjs results.json      (one run: counted as unit vs integration)
//
// In CI an engine suite that skips a test, or runs none, fails; so does an engine that could not
// be started (--missing), and engines that disagree on the example's budget verdict.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const ci = Boolean(process.env.CI);
const runs = [];
const missing = [];
for (const arg of process.argv.slice(2)) {
  if (arg.startsWith('--missing=')) missing.push(arg.slice('--missing='.length));
  else if (arg.includes('='))
    runs.push({
      label: arg.slice(0, arg.lastIndexOf('=')),
      file: arg.slice(arg.lastIndexOf('=') + 1),
    });
  else runs.push({ file: arg });
}

/** Counts of one results file, split by suite when the run has no label of its own. */
function countsOf(file) {
  const counts = new Map();
  const add = (suite, key) => {
    if (!counts.has(suite)) counts.set(suite, { passed: 0, failed: 0, skipped: 0 });
    counts.get(suite)[key]++;
  };
  if (!existsSync(file))
    return { counts, broken: `${file} was not written (vitest did not finish)` };
  const results = JSON.parse(readFileSync(file, 'utf8'));
  for (const testFile of results.testResults) {
    const suite = /\/test\/unit\//.test(testFile.name)
      ? 'unit'
      : /\/test\/compat\//.test(testFile.name)
        ? 'compat'
        : 'integration';
    for (const test of testFile.assertionResults) {
      add(
        suite,
        test.status === 'passed' ? 'passed' : test.status === 'failed' ? 'failed' : 'skipped',
      );
    }
    // A file that failed before any test ran (import error, failing hook) counts as one failure.
    if (
      testFile.status === 'failed' &&
      testFile.assertionResults.every((t) => t.status !== 'failed')
    )
      add(suite, 'failed');
  }
  return { counts };
}

const total = { passed: 0, failed: 0, skipped: 0 };
const problems = [];
const rows = [];
for (const run of runs) {
  const { counts, broken } = countsOf(run.file);
  if (broken) {
    total.failed++;
    problems.push(`${run.label ?? run.file}: ${broken}`);
    rows.push(`${run.label ?? run.file}: did not finish`);
    continue;
  }
  const groups = run.label
    ? [[run.label, merge([...counts.values()]), [...counts.keys()]]]
    : [...counts].map(([suite, c]) => [suite, c, [suite]]);
  for (const [label, c, suites] of groups) {
    total.passed += c.passed;
    total.failed += c.failed;
    total.skipped += c.skipped;
    rows.push(
      `${label}: ${c.passed + c.failed} run, ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`,
    );
    const needsEngine = suites.some((suite) => suite !== 'unit');
    if (ci && needsEngine && c.skipped > 0)
      problems.push(`${label}: ${c.skipped} test(s) skipped; engine suites must run in CI`);
    if (ci && needsEngine && c.passed === 0) problems.push(`${label}: no test ran`);
  }
}
for (const engine of missing) {
  rows.push(`${engine}: not started${ci ? ' (a failure in CI)' : ' (skipped)'}`);
  if (ci) {
    total.failed++;
    problems.push(`${engine} could not be started`);
  }
}

function merge(list) {
  return list.reduce(
    (t, c) => ({
      passed: t.passed + c.passed,
      failed: t.failed + c.failed,
      skipped: t.skipped + c.skipped,
    }),
    {
      passed: 0,
      failed: 0,
      skipped: 0,
    },
  );
}

console.log('');
for (const row of rows) console.log(row);
compareEngines();
for (const problem of problems) console.error(`!!! ${problem}`);
console.log(`${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(total.failed > 0 || problems.length > 0 ? 1 : 0);

/** The shipped example on each engine the compat suite ran on (records in .cache/compat/). */
function compareEngines() {
  const dir = path.join('.cache', 'compat');
  if (!existsSync(dir)) return;
  const records = readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .map((name) => JSON.parse(readFileSync(path.join(dir, name), 'utf8')));
  if (records.length === 0) return;
  const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
  console.log(
    'The example, slimmed, on each engine (uncompressed as the store counts it; compressed as a push sends it):',
  );
  for (const r of records) {
    console.log(
      `  ${r.engine.version} ${r.engine.store} store, ${r.builder} builder: ` +
        `${mb(r.before.size)} -> ${mb(r.after.size)}, compressed ${mb(r.before.compressed)} -> ${mb(r.after.compressed)}, ` +
        `${r.verdict} budget (docker images ${mb(r.after.listSize)}, inspect ${mb(r.after.inspectSize)})`,
    );
  }
  const verdicts = new Set(records.map((r) => r.verdict));
  if (verdicts.size > 1)
    problems.push(`engines disagree on the example's budget verdict: ${[...verdicts].join(' / ')}`);
}
