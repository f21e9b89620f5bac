/** The report for a terminal: the same facts as the PR comment, as plain aligned text. */
import type { ImageMeasurement, ReportFiles, SlimpyReport } from '../model/report.js';
import { formatBytes, formatDelta } from './format.js';

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
  if (report.slim) {
    out.push('');
    out.push(`Strategy: ${report.slim.strategy}`);
    for (const saving of report.slim.savings) {
      out.push(
        `  ${saving.category.padEnd(12)} ${formatBytes(saving.bytes).padStart(10)}  (${saving.files} files)`,
      );
    }
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
    if (report.smoke.coldStartDeltaMs !== undefined)
      out.push(`  cold-start delta: ${report.smoke.coldStartDeltaMs} ms`);
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

/** What else makes the original image heavy: size, line, what, and the fix on the next line. */
function findingLines(report: SlimpyReport): string[] {
  if (!report.findings?.length) return [];
  const rows = ['', 'What else makes the image heavy (original image):'];
  for (const finding of report.findings.slice(0, 10)) {
    const where = finding.line === undefined ? '' : `line ${finding.line}: `;
    rows.push(`  ${formatBytes(finding.bytes).padStart(10)}  ${where}${printable(finding.title)}`);
    rows.push(`${' '.repeat(14)}${printable(finding.fix)}`);
  }
  return rows;
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
