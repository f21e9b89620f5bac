// Diffs two slimpy JSON reports of the same Dockerfile (scripts/compare-reports.sh): prints every
// field that differs, apart from what is timing by nature (`timings`, the smoke test's timed
// runs and the cold-start figures), the output directory in file paths and the image ids (each
// run labels its images with its own run id, so the ids differ while every layer is the same),
// and checks that the compressed sizes agree within 0.1 %. Exits 1 when anything else differs.
import { readFileSync } from 'node:fs';
import path from 'node:path';

const [oldFile, newFile] = process.argv.slice(2);
const TIMED_SMOKE = ['medianMs', 'runsMs'];
const TIMED_REPORT = ['coldStartDeltaMs', 'coldStartSpreadMs'];

function load(file) {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  const outDir = path.dirname(report.slim?.patchPath ?? '');
  delete report.timings;
  for (const image of [report.before, report.after]) if (image) image.id = '<image id>';
  for (const key of TIMED_REPORT) delete report.smoke?.[key];
  for (const run of [report.smoke?.before, report.smoke?.after])
    for (const key of TIMED_SMOKE) delete run?.[key];
  return JSON.parse(JSON.stringify(report).replaceAll(outDir, '<out>'));
}

function differences(a, b, where = '') {
  if (typeof a !== typeof b || Array.isArray(a) !== Array.isArray(b) || a === null || b === null)
    return a === b ? [] : [`${where}: ${JSON.stringify(a)} -> ${JSON.stringify(b)}`];
  if (typeof a !== 'object')
    return a === b ? [] : [`${where}: ${JSON.stringify(a)} -> ${JSON.stringify(b)}`];
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].flatMap((key) => differences(a[key], b[key], `${where}.${key}`));
}

const before = load(oldFile);
const after = load(newFile);
const found = differences(before, after);
const compressed = [
  ['before', before.before?.compressed, after.before?.compressed],
  ['after', before.after?.compressed, after.after?.compressed],
].filter(([, a, b]) => a !== undefined || b !== undefined);
const label = `${path.basename(oldFile)} vs ${path.basename(newFile)}`;
for (const [image, a, b] of compressed) {
  const percent = ((b - a) / a) * 100;
  console.log(`${label}: compressed ${image} ${a} -> ${b} (${percent.toFixed(4)} %)`);
  if (!(Math.abs(percent) <= 0.1)) found.push(`${image} compressed differs by ${percent} %`);
}
if (found.length === 0) {
  console.log(`${label}: every field the same (timings and timed smoke runs aside)`);
} else {
  console.log(`${label}: ${found.length} difference(s):\n  ${found.join('\n  ')}`);
  process.exitCode = 1;
}
