/** The report for a terminal: the same facts as the PR comment, as plain aligned text. */
import type { ImageMeasurement, ReportFiles, SlimpyReport } from '../model/report.js';
import { formatBytes, formatDelta } from './format.js';
import { coldStartSentence, timingsLines } from './time.js';
import { traceTextLines } from './trace-markdown.js';

export function renderText(report: SlimpyReport, files: ReportFiles): string {
  const out: string[] = [];
  out.push(
    `slimpy ${report.mode}: ${report.dockerfile}${report.target ? ` (target ${report.target})` : ''}`,
  );
  if (report.image) out.push(`image ${report.image}: given, not built`);
  out.push(
    `engine ${report.engine.version}, ${report.engine.store} store, ${report.engine.builder} builder`,
  );
  out.push('');
  out.push(...sizeTable(report));
  out.push('');
  out.push(...layerTable(report.after ?? report.before));
  out.push('');
  out.push('Largest files added by the image (not the base):');
  for (const file of (report.after ?? report.before).largestFiles.slice(0, 10)) {
    out.push(`  ${formatBytes(file.size).padStart(10)}  ${printable(file.path)}`);
  }
  out.push(...findingLines(report));
  out.push(...traceTextLines(report).map(printable));
  if (report.slim) {
    out.push('');
    out.push(`Strategy: ${report.slim.strategy}`);
    out.push(...unchangedLines(report));
    out.push(...savingLines(report));
    for (const file of report.slim.strippedTop.slice(0, 5)) {
      out.push(
        `  stripped ${printable(file.path)}: ${formatBytes(file.before)} -> ${formatBytes(file.after)}`,
      );
    }
    for (const line of [...report.slim.notes, ...report.slim.skipped])
      out.push(`  - ${printable(line)}`);
  }
  if (report.smoke) {
    const { before, after } = report.smoke;
    out.push('');
    out.push(`Smoke test: ${report.smoke.command.join(' ')}`);
    out.push(
      `  original: ${before.passed ? 'passed' : 'FAILED'}${before.medianMs !== undefined ? ` (median ${before.medianMs} ms)` : ''}`,
    );
    if (after)
      out.push(
        `  slimmed:  ${after.passed ? 'passed' : 'FAILED'}${after.medianMs !== undefined ? ` (median ${after.medianMs} ms)` : ''}`,
      );
    const coldStart = coldStartSentence(report);
    if (coldStart) out.push(`  ${coldStart}`);
  }
  if (report.budget) {
    const b = report.budget;
    out.push('');
    out.push(
      `Budget (${b.metric}): ${formatBytes(b.actual)} of ${formatBytes(b.limit)} — ${b.over ? 'OVER BUDGET' : 'within budget'}`,
    );
  }
  if (report.growth) {
    out.push('');
    out.push(`Growth: ${report.growth.message}${report.growth.over ? ' — OVER max-growth' : ''}`);
  }
  out.push(...warningLines(report));
  if (report.timings) out.push('', ...timingsLines(report.timings));
  out.push('');
  out.push(`Report: ${files.report}`);
  if (files.dockerfile) out.push(`Slimmed Dockerfile: ${files.dockerfile}`);
  if (files.patch) out.push(`Patch: ${files.patch}`);
  return out.join('\n');
}

function sizeTable(report: SlimpyReport): string[] {
  const row = (label: string, size: string, compressed: string): string =>
    `  ${label.padEnd(8)} ${size.padStart(12)} ${compressed.padStart(12)}`;
  const rows = [
    row('Image', 'Size', 'Compressed'),
    row('before', formatBytes(report.before.size), optionalBytes(report.before.compressed)),
  ];
  if (report.after) {
    rows.push(row('after', formatBytes(report.after.size), optionalBytes(report.after.compressed)));
    rows.push(
      row(
        'delta',
        formatDelta(report.after.size - report.before.size, report.before.size),
        report.after.compressed !== undefined && report.before.compressed !== undefined
          ? formatDelta(
              report.after.compressed - report.before.compressed,
              report.before.compressed,
            )
          : '-',
      ),
    );
  }
  return rows;
}

function layerTable(image: ImageMeasurement): string[] {
  const rows = ['Layers (oldest first):'];
  for (const layer of image.layers) {
    rows.push(
      `  ${formatBytes(layer.size).padStart(10)} ${optionalBytes(layer.compressed).padStart(10)}  ${layer.base ? '[base] ' : ''}${printable(layer.createdBy)}`,
    );
  }
  return rows;
}

function optionalBytes(value: number | undefined): string {
  return value === undefined ? '-' : formatBytes(value);
}

/** "Where the bytes went": the same rows, total, still-shipped and strip lines as the comment. */
function savingLines(report: SlimpyReport): string[] {
  const slim = report.slim;
  if (!slim || slim.savings.length === 0) return [];
  const row = (label: string, bytes: number, note: string): string =>
    `  ${label.padEnd(14)} ${formatBytes(bytes).padStart(10)}  ${note}`;
  const rows = ['Where the bytes went:'];
  for (const saving of slim.savings)
    rows.push(row(saving.category, saving.bytes, `(${saving.files} files)`));
  const total = slim.savings.reduce((sum, saving) => sum + saving.bytes, 0);
  const delta = report.after ? report.before.size - report.after.size : 0;
  rows.push(row('total', total, `(the image is ${formatBytes(delta)} smaller, as measured)`));
  for (const entry of slim.stillShipped ?? []) {
    const where = entry.line === undefined ? '' : `, line ${entry.line}`;
    rows.push(
      `  still shipped in layer ${entry.layer}${where}: ${formatBytes(entry.bytes)} (${entry.files} files, not counted). ${printable(entry.why)} ${printable(entry.fix)}`,
    );
  }
  const kept = slim.stripKept;
  if (kept) {
    const reasons = kept.reasons.map((reason) => `${reason.reason} (${reason.files})`).join('; ');
    rows.push(
      `  strip kept ${kept.files} files as they were (${formatBytes(kept.bytes)}): ${printable(reasons)}`,
    );
  }
  return rows;
}

/** What else makes the original image heavy: size, line, what, and the fix on the next line. */
function findingLines(report: SlimpyReport): string[] {
  if (!report.findings?.length) return [];
  const rows = ['', 'What else makes the image heavy (original image):'];
  for (const finding of report.findings.slice(0, 10)) {
    const where = finding.line === undefined ? '' : `line ${finding.line}: `;
    rows.push(`  ${formatBytes(finding.bytes).padStart(10)}  ${where}${printable(finding.title)}`);
    rows.push(`${' '.repeat(14)}${printable(finding.fix)}`);
    if (finding.unfixed)
      rows.push(`${' '.repeat(14)}slimpy did not: ${printable(finding.unfixed)}`);
  }
  return rows;
}

/** Why nothing was slimmed, and each root the prune could not find, by its Dockerfile line. */
function unchangedLines(report: SlimpyReport): string[] {
  const slim = report.slim;
  const lines = slim?.unchanged ? [`Not slimmed: ${printable(slim.unchanged.detail)}`] : [];
  for (const missing of slim?.missingRoots ?? []) {
    const where = missing.lines.length > 0 ? ` (COPY at line ${missing.lines.join(', ')})` : '';
    lines.push(`  error: root ${printable(missing.root)}${where} does not exist in its stage`);
  }
  return lines;
}

/** What did not stop the run but the user should know (the same list the comment shows). */
function warningLines(report: SlimpyReport): string[] {
  const warnings = [...report.warnings, ...(report.slim?.warnings ?? [])];
  if (warnings.length === 0) return [];
  return ['', 'Warnings:', ...warnings.map((warning) => `  - ${printable(warning)}`)];
}

/** Control characters in names from the image would move the cursor or clear the terminal. */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}
