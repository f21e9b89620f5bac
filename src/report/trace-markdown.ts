/**
 * What the traced smoke test used (report.trace), for the comment, the job summary and the
 * terminal: one set of sentences, rendered as markdown or as plain text. Distribution names and
 * paths come from the image, so the markdown goes through escape.ts.
 */
import { codeText, escapeProse } from './escape.js';
import { formatBytes, formatCount, truncateMiddle } from './format.js';
import type { SlimpyReport, TraceReport, TracedPackage } from '../model/report.js';

const PATH_CHARS = 90;

/** A `####` section; '' when the run has no trace field (measure mode, no smoke test). */
export function renderTraceSection(
  report: SlimpyReport,
  options: { maxRows?: number } = {},
): string {
  const trace = report.trace;
  if (!trace) return '';
  const maxRows = options.maxRows ?? 10;
  const parts = ['#### What the smoke test used'];
  if (trace.status !== 'traced') {
    parts.push(escapeProse(unavailableSentence(trace)));
    parts.push(...modeNotes(report).map(escapeProse));
    return parts.join('\n\n');
  }
  parts.push(escapeProse(usedSentence(trace)));
  const packages = trace.packages.slice(0, maxRows);
  if (packages.length > 0) {
    const rows = packages.map((p) => [
      codeText(`${p.name} ${p.version}`.trim()),
      formatBytes(p.bytes),
      usedCell(p),
      formatBytes(p.bytes - p.usedBytes),
    ]);
    parts.push(
      [
        '| Distribution | Size | Used by the test | Never used |',
        '| :-- | --: | --: | --: |',
        ...rows.map((cells) => `| ${cells.join(' | ')} |`),
      ].join('\n'),
    );
  }
  const libraries = trace.unusedLibraries.slice(0, Math.min(maxRows, 5));
  if (libraries.length > 0) {
    const listed = libraries.map(
      (file) =>
        `${codeText(truncateMiddle(shortPath(trace, file.path), PATH_CHARS))} (${formatBytes(file.size)})`,
    );
    parts.push(`Largest shared libraries no process loaded: ${listed.join(', ')}.`);
  }
  parts.push(...modeNotes(report).map(escapeProse));
  return parts.join('\n\n');
}

/** The same facts as plain lines for the terminal (the caller makes them printable). */
export function traceTextLines(report: SlimpyReport): string[] {
  const trace = report.trace;
  if (!trace) return [];
  const lines = ['', 'What the smoke test used (traced in the original image):'];
  if (trace.status !== 'traced') {
    lines.push(`  ${unavailableSentence(trace)}`);
  } else {
    lines.push(`  ${usedSentence(trace)}`);
    for (const p of trace.packages.slice(0, 10)) {
      lines.push(
        `  ${formatBytes(p.bytes - p.usedBytes).padStart(10)} never used of ${`${p.name} ${p.version}`.trim()} (${formatBytes(p.bytes)}, ${percent(p.usedBytes, p.bytes)} used)`,
      );
    }
    for (const file of trace.unusedLibraries.slice(0, 5)) {
      lines.push(
        `  ${formatBytes(file.size).padStart(10)} never loaded: ${shortPath(trace, file.path)}`,
      );
    }
  }
  return [...lines, ...modeNotes(report).map((note) => `  ${stripMarkdown(note)}`)];
}

function usedSentence(trace: TraceReport): string {
  const share = percent(trace.usedBytes, trace.environmentBytes);
  const bytecode =
    trace.bytecodeBytes > 0
      ? ` It read ${formatBytes(trace.usedBytecodeBytes)} of the ${formatBytes(trace.bytecodeBytes)} of bytecode, which \`pycache\` keeps so that imports do not recompile on every start.`
      : '';
  return (
    `The smoke test used ${formatBytes(trace.usedBytes)} of the ${formatBytes(trace.environmentBytes)} in the Python environments (${share}; ` +
    `${formatCount(trace.usedFiles)} of ${formatCount(trace.environmentFiles)} files), traced in the original image across ${plural(trace.processes, 'process', 'processes')}.${bytecode}`
  );
}

function unavailableSentence(trace: TraceReport): string {
  const size =
    trace.environmentBytes > 0
      ? ` The Python environments hold ${formatBytes(trace.environmentBytes)}.`
      : '';
  return (
    `The smoke test could not be traced: ${trace.reason ?? 'no reason given'}. ` +
    `Without a trace \`pycache\` removes all bytecode and \`unused\` removes nothing.${size}`
  );
}

/** What the prune does with the trace: the opt-in's offer, or its risk and how to keep things. */
function modeNotes(report: SlimpyReport): string[] {
  const trace = report.trace;
  const slim = report.slim;
  if (!trace || !slim) return [];
  const notes: string[] = [];
  if (slim.restored?.length) {
    notes.push(
      `The smoke test failed without the files of ${slim.restored.map((name) => `\`${name}\``).join(', ')}, which the trace did not see used: slimpy kept those distributions whole. Add them to \`keep-packages\` to skip that search next time.`,
    );
  }
  if (slim.variant.prune.includes('unused')) {
    notes.push(
      '⚠️ `unused` is on: files in the Python environments that the smoke test never opened were removed. The smoke test passed, but code paths it does not run (other entry points, error handling, optional features, data or plugins loaded on demand, libraries chosen by CPU) may need them. ' +
        'Keep a distribution whole with `keep-packages: name` (`--keep-package name`), a path with `keep`, or make the smoke test run those paths.',
    );
  } else if (trace.status === 'traced' && trace.environmentBytes > trace.usedBytes) {
    notes.push(
      `\`prune: all,unused\` would also remove what the smoke test never touched, up to ${formatBytes(trace.environmentBytes - trace.usedBytes)}: it is opt-in because it holds only for the code paths the smoke test runs.`,
    );
  }
  return notes;
}

function usedCell(p: TracedPackage): string {
  return p.usedBytes === 0
    ? 'never'
    : `${formatBytes(p.usedBytes)} (${percent(p.usedBytes, p.bytes)})`;
}

/** A path inside an environment, shown from the environment on. */
function shortPath(trace: TraceReport, path: string): string {
  const env = trace.environments.find((dir) => path.startsWith(`${dir}/`));
  return env === undefined ? path : path.slice(env.length + 1);
}

function percent(part: number, whole: number): string {
  if (whole <= 0) return '0 %';
  const value = (part / whole) * 100;
  return `${value < 10 && value > 0 ? value.toFixed(1) : Math.round(value)} %`;
}

function plural(count: number, one: string, many: string): string {
  return `${formatCount(count)} ${count === 1 ? one : many}`;
}

function stripMarkdown(text: string): string {
  return text.replace(/`/g, '').replace(/\*\*/g, '');
}
