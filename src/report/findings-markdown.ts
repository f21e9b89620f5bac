/**
 * The findings as a markdown section of the comment and the job summary. Titles, fixes,
 * instructions and paths all carry text from the image or the Dockerfile, so every one goes
 * through escape.ts: titles and fixes as prose (their backtick spans become `<code>`), the rest
 * as code.
 */
import { codeText, escapeProse, escapeText } from './escape.js';
import { formatBytes, truncateMiddle, truncateText } from './format.js';
import type { Finding } from '../model/report.js';

export interface FindingsMarkdownOptions {
  /** Rows shown; the rest are counted in a closing line. Default 10. */
  maxRows?: number;
  /** Evidence paths per row. Default 3. */
  maxPaths?: number;
}

const INSTRUCTION_CHARS = 80;
const PATH_CHARS = 90;

/** A `###` section with one table row per finding, biggest first; '' when there are none. */
export function renderFindings(
  findings: readonly Finding[],
  options: FindingsMarkdownOptions = {},
): string {
  if (findings.length === 0) return '';
  const maxRows = options.maxRows ?? 10;
  const shown = findings.slice(0, Math.max(0, maxRows));
  const lines = [
    '### What else makes the image heavy',
    '',
    'Measured in the original image: weight that strip and prune do not remove, and the Dockerfile line that causes it.',
    '',
    '| Size | Where | What | Fix |',
    '| ---: | --- | --- | --- |',
    ...shown.map((finding) => findingRow(finding, options.maxPaths ?? 3)),
  ];
  const hidden = findings.length - shown.length;
  if (hidden > 0) lines.push('', `${hidden} more in the JSON report (\`findings\`).`);
  return lines.join('\n');
}

function findingRow(finding: Finding, maxPaths: number): string {
  const unfixed = finding.unfixed
    ? `<br><sub>slimpy did not: ${escapeProse(finding.unfixed)}</sub>`
    : '';
  return `| ${sizeCell(finding)} | ${whereCell(finding)} | ${whatCell(finding, maxPaths)} | ${escapeProse(finding.fix)}${unfixed} |`;
}

/** Compressed sizes of findings other than the base are a layer's share, hence `~`. */
function sizeCell(finding: Finding): string {
  const size = formatBytes(finding.bytes);
  if (finding.compressedBytes === undefined) return size;
  const estimate = finding.kind === 'base-image' ? '' : '~';
  return `${size}<br><sub>${estimate}${formatBytes(finding.compressedBytes)} compressed</sub>`;
}

function whereCell(finding: Finding): string {
  const text = finding.instruction;
  const instruction = codeText(
    text.length > INSTRUCTION_CHARS
      ? `${truncateText(text, INSTRUCTION_CHARS - 1, 'head')}…`
      : text,
  );
  return finding.line === undefined ? instruction : `line ${finding.line}<br>${instruction}`;
}

function whatCell(finding: Finding, maxPaths: number): string {
  const paths = finding.paths
    .slice(0, maxPaths)
    .map((file) => codeText(truncateMiddle(file, PATH_CHARS)));
  const more = finding.paths.length > maxPaths ? ` ${escapeText('…')}` : '';
  const evidence = paths.length > 0 ? `<br><sub>${paths.join(' ')}${more}</sub>` : '';
  return `${escapeProse(finding.title)}${evidence}`;
}
