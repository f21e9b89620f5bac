/**
 * The report as GitHub markdown: one body for both the PR comment and the job summary.
 *
 * Every value from the image or the build goes through `escape.ts`; this module only decides what
 * to say and in which order. A comment body may hold at most 65,536 characters, so the body is
 * rendered with limits on its variable parts (output, patch, file and layer lists, notes), and the
 * biggest part is halved until the body fits; each shortened part says "(truncated)".
 */
import { renderFindings } from './findings-markdown.js';
import { coldStartSentence, timingsSentence } from './time.js';
import { renderTraceSection } from './trace-markdown.js';
import { isPruneCategory } from '../model/categories.js';
import { isFixRule } from '../model/fixes.js';
import { CATEGORY_DESCRIPTIONS, FIX_DESCRIPTIONS } from '../slim/categories.js';
import { codeText, escapeProse, escapeText, fencedBlock, sanitizeMarkerKey } from './escape.js';
import {
  formatBytes,
  formatCount,
  formatDelta,
  formatDuration,
  formatSignedPercent,
  shortSha,
  truncateMiddle,
  truncateText,
} from './format.js';
import type {
  CategorySaving,
  ImageMeasurement,
  LayerRow,
  SlimpyReport,
  SmokeRun,
} from '../model/report.js';

/** GitHub rejects issue comments longer than this many characters. */
export const GITHUB_COMMENT_LIMIT = 65_536;

export interface RenderOptions {
  /** Identifies the comment across runs (one sticky comment per key). */
  commentKey: string;
  /** Shown in bold at the start of the summary line; default `slimpy`. */
  title?: string;
  /** Rows in the largest-files and stripped-files tables; default 10. */
  maxFiles?: number;
  /** Longest body to produce; default {@link GITHUB_COMMENT_LIMIT}. */
  maxChars?: number;
}

/** The hidden first line that lets the next run find this comment: `<!-- slimpy:key -->`. */
export function commentMarker(key: string): string {
  return `<!-- slimpy:${sanitizeMarkerKey(key)} -->`;
}

export function renderReport(report: SlimpyReport, options: RenderOptions): string {
  const maxChars = options.maxChars ?? GITHUB_COMMENT_LIMIT;
  let limits = initialLimits(options);
  for (;;) {
    const rendered = renderOnce(report, options, limits);
    const body = joinSections(rendered.sections);
    if (body.length <= maxChars) return body;
    const next = shrinkLargestPart(limits, rendered.sizes);
    if (!next) return dropSections(rendered.sections, maxChars);
    limits = next;
  }
}

function joinSections(sections: string[]): string {
  return `${sections.filter((section) => section !== '').join('\n\n')}\n`;
}

/**
 * Last resort when even the smallest limits do not fit (not expected: every part is bounded):
 * leave out whole sections, biggest first, so no block is cut open. The marker, the summary line
 * and the size table stay.
 */
function dropSections(sections: string[], maxChars: number): string {
  const kept = [...sections];
  const notice = '*(truncated: sections left out to fit GitHub’s comment size limit)*';
  const essential = 3;
  while (joinSections([...kept, notice]).length > maxChars) {
    const sizes = kept.slice(essential).map((section) => section.length);
    const largest = Math.max(...sizes, 0);
    if (largest === 0) break;
    kept[essential + sizes.indexOf(largest)] = '';
  }
  const body = joinSections([...kept, notice]);
  return body.length <= maxChars ? body : `${truncateText(body, maxChars - 1, 'head')}\n`;
}

// ---------------------------------------------------------------------------------------------
// Limits: what may be shortened to fit, and how far.

/** The parts of the body that vary with the image, in rows, items or characters. */
interface Limits {
  files: number;
  layers: number;
  outputChars: number;
  patchChars: number;
  notes: number;
  noteChars: number;
}
type Part = keyof Limits;
type PartSizes = Partial<Record<Part, number>>;

const MINIMUM: Limits = {
  files: 0,
  layers: 0,
  outputChars: 0,
  patchChars: 0,
  notes: 0,
  noteChars: 80,
};
/** Single-line values (paths, instructions) longer than this are shortened in the middle. */
const MAX_INLINE_CHARS = 200;

function initialLimits(options: RenderOptions): Limits {
  return {
    files: Math.min(Math.max(0, Math.floor(options.maxFiles ?? 10)), 1_000) || 0,
    layers: 60,
    outputChars: 8_000,
    patchChars: 60_000,
    notes: 30,
    noteChars: 600,
  };
}

function shrinkLargestPart(limits: Limits, sizes: PartSizes): Limits | undefined {
  const candidates = (Object.keys(sizes) as Part[])
    .filter((part) => limits[part] > MINIMUM[part] && (sizes[part] ?? 0) > 0)
    .sort((a, b) => (sizes[b] ?? 0) - (sizes[a] ?? 0));
  const part = candidates[0];
  if (part === undefined) return undefined;
  const halved = Math.floor(limits[part] / 2);
  return {
    ...limits,
    [part]: halved < 4 && MINIMUM[part] === 0 ? 0 : Math.max(MINIMUM[part], halved),
  };
}

// ---------------------------------------------------------------------------------------------
// Rendering

interface Rendered {
  sections: string[];
  sizes: PartSizes;
}

function renderOnce(report: SlimpyReport, options: RenderOptions, limits: Limits): Rendered {
  const sizes: PartSizes = {};
  const measure = (part: Part, text: string): string => {
    sizes[part] = (sizes[part] ?? 0) + text.length;
    return text;
  };
  const sections = [
    commentMarker(options.commentKey),
    summarySection(report, options.title ?? 'slimpy'),
    sizeTable(report),
    measure('files', savingsSection(report, limits.files)),
    // What else makes the image heavy (findings), biggest first; bounded like the file lists.
    measure(
      'files',
      renderFindings(report.findings ?? [], { maxRows: Math.min(limits.files, 10) }),
    ),
    measure('files', renderTraceSection(report, { maxRows: Math.min(limits.files, 10) })),
    detailsSection(report, limits, measure),
    smokeSection(report, limits, measure),
    measure('patchChars', patchSection(report, limits.patchChars)),
    measure('noteChars', notesSection(report, limits)),
    verdictSection(report),
    timingsLine(report),
    engineLine(report),
  ];
  // One section, two limits: item length is shortened first (it comes first among equals).
  if (sizes.noteChars !== undefined) sizes.notes = sizes.noteChars;
  return { sections, sizes };
}

function inlineCode(text: string): string {
  return codeText(truncateMiddle(text, MAX_INLINE_CHARS));
}

function tableRow(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function table(header: string[], align: string[], rows: string[][]): string {
  return [tableRow(header), tableRow(align), ...rows.map(tableRow)].join('\n');
}

function details(summary: string, content: string): string {
  return `<details><summary>${summary}</summary>\n\n${content}\n\n</details>`;
}

function plural(count: number, noun: string): string {
  return `${formatCount(count)} ${noun}${count === 1 ? '' : 's'}`;
}

function truncationNote(shown: number, total: number, what: string): string {
  return `*(truncated: showing ${formatCount(shown)} of ${formatCount(total)} ${what})*`;
}

// Summary line ---------------------------------------------------------------------------------

function summarySection(report: SlimpyReport, title: string): string {
  const target = report.target ? ` (target ${inlineCode(report.target)})` : '';
  const subject = `**${escapeText(title)}**: ${subjectName(report)}${target}`;
  // A run that slimmed nothing says why in the first sentence; the smoke test then stands apart.
  const sentences = report.slim?.unchanged
    ? [`${subject} ${sizeClause(report)}.`, unchangedSmokeSentence(report)].filter(Boolean)
    : [`${subject} ${sizeClause(report)}${smokeClause(report)}`];
  const culprit = report.slim?.culprit;
  if (culprit) {
    sentences.push(
      `${ruleName(culprit)} broke the smoke test, so slimpy delivered the variant without it.`,
    );
  }
  if (report.budget?.over) {
    const b = report.budget;
    sentences.push(
      `**Over budget**: ${formatBytes(b.actual)} ${b.metric} exceeds the ${formatBytes(b.limit)} limit by ${formatBytes(b.actual - b.limit)}.`,
    );
  }
  if (report.growth?.over)
    sentences.push(`**Grew too much**: ${escapeProse(report.growth.message)}`);
  return sentences.join(' ');
}

/** The Dockerfile, or the image an earlier step built (the `image` input) and its Dockerfile. */
function subjectName(report: SlimpyReport): string {
  if (report.image === undefined) return inlineCode(report.dockerfile);
  return `image ${inlineCode(report.image)} (given, not built; Dockerfile ${inlineCode(report.dockerfile)})`;
}

function sizeClause(report: SlimpyReport): string {
  const { before, after } = report;
  if (!after || report.mode === 'measure') {
    const compressed =
      before.compressed !== undefined ? ` (${formatBytes(before.compressed)} compressed)` : '';
    const unchanged = report.mode === 'slim' ? report.slim?.unchanged : undefined;
    // Nothing was slimmed: say why, with the size it stays at.
    if (unchanged)
      return `stays at ${formatBytes(before.size)}${compressed}: ${escapeProse(unchanged.detail)}`;
    return `measures ${formatBytes(before.size)}${compressed}`;
  }
  const unchanged = report.slim?.unchanged;
  if (unchanged && after.size === before.size) {
    return `stays at ${formatBytes(before.size)}: ${escapeProse(unchanged.detail)}`;
  }
  if (after.id === before.id)
    return `stays at ${formatBytes(before.size)}: no slimmed variant passed the smoke test`;
  const change = `from ${formatBytes(before.size)} to ${formatBytes(after.size)}`;
  const percent =
    before.size > 0 ? ` (${formatSignedPercent((after.size - before.size) / before.size)})` : '';
  const why = unchanged ? `: ${escapeProse(unchanged.detail)}` : '';
  if (after.size < before.size) return `shrinks ${change}${percent}${why}`;
  if (after.size > before.size) return `grows ${change}${percent}${why}`;
  return `stays at ${formatBytes(after.size)}${why}`;
}

function smokeClause(report: SlimpyReport): string {
  const smoke = report.smoke;
  if (!smoke) return report.mode === 'slim' ? '; no smoke test was run.' : '.';
  const { before, after } = smoke;
  if (!before.passed) {
    return report.mode === 'slim'
      ? `, but its smoke test **fails on the original image** (${runOutcome(before)}), so slimming could not be checked.`
      : `, and its smoke test **fails** (${runOutcome(before)}).`;
  }
  if (report.after !== undefined && report.after.id === report.before.id) return '.';
  if (!after) return ' and passes its smoke test.';
  if (after.passed) return ' and still passes its smoke test.';
  return `, but the slimmed image **fails its smoke test** (${runOutcome(after)}).`;
}

function unchangedSmokeSentence(report: SlimpyReport): string {
  const before = report.smoke?.before;
  if (!before || before.passed) return '';
  return `Its smoke test **fails on the original image** (${runOutcome(before)}).`;
}

function runOutcome(run: SmokeRun): string {
  if (run.timedOut) return 'timed out';
  return run.exitCode === null ? 'no exit code' : `exit code ${run.exitCode}`;
}

function ruleName(rule: string): string {
  if (rule === 'strip') return 'Stripping debug symbols';
  return isFixRule(rule) ? `The ${inlineCode(rule)} fix` : `${inlineCode(rule)} removal`;
}

// Sizes ----------------------------------------------------------------------------------------

function sizeTable(report: SlimpyReport): string {
  const { before, after, growth } = report;
  const slimmed = report.mode === 'slim' && after !== undefined;
  const rows: string[][] = [];
  const base = growth?.baseSha !== undefined && growth.baseSize !== undefined ? growth : undefined;
  const inColumn = (text: string): string[] =>
    base?.metric === 'compressed' ? ['—', text] : [text, '—'];
  if (base?.baseSha !== undefined && base.baseSize !== undefined) {
    rows.push([
      `base (${inlineCode(shortSha(base.baseSha))})`,
      ...inColumn(formatBytes(base.baseSize)),
    ]);
  }
  rows.push([
    slimmed ? 'before' : 'this image',
    formatBytes(before.size),
    optionalBytes(before.compressed),
  ]);
  if (slimmed) {
    rows.push(['after', formatBytes(after.size), optionalBytes(after.compressed)]);
    rows.push([
      '**Δ**',
      `**${formatDelta(after.size - before.size, before.size)}**`,
      compressedDelta(before, after),
    ]);
  }
  if (base?.baseSize !== undefined) {
    // base (abc1234) -> this PR: the delivered image against the base commit's.
    rows.push([
      slimmed ? '**Δ vs base** (after)' : '**Δ vs base**',
      ...inColumn(`**${formatDelta(base.actual - base.baseSize, base.baseSize)}**`),
    ]);
  }
  return table(['Image', 'Size', 'Compressed'], [':--', '--:', '--:'], rows);
}

function optionalBytes(bytes: number | undefined): string {
  return bytes === undefined ? '—' : formatBytes(bytes);
}

function compressedDelta(before: ImageMeasurement, after: ImageMeasurement): string {
  if (before.compressed === undefined || after.compressed === undefined) return '—';
  return `**${formatDelta(after.compressed - before.compressed, before.compressed)}**`;
}

// Savings --------------------------------------------------------------------------------------

const STRIP_DESCRIPTION =
  'debug symbols stripped from shared libraries (`.so`); the code itself is unchanged';
const OTHER_DESCRIPTION =
  'other changes no single rule accounts for (negative: bytes the rewrite added, such as the prune script copied in)';

function savingsSection(report: SlimpyReport, maxFiles: number): string {
  const slim = report.slim;
  if (!slim || (slim.savings.length === 0 && slim.strippedTop.length === 0)) return '';
  const parts = ['#### Where the bytes went'];
  if (slim.savings.length > 0) {
    const rows = [...slim.savings]
      .sort((a, b) => b.bytes - a.bytes)
      .map((saving) => [
        inlineCode(saving.category),
        formatCount(saving.files),
        formatBytes(saving.bytes),
        categoryDescription(saving.category),
      ]);
    rows.push(totalRow(report));
    parts.push(
      table(['Category', 'Files', 'Saved', 'What it removes'], [':--', '--:', '--:', ':--'], rows),
    );
  }
  const shipped = stillShippedList(report);
  if (shipped) parts.push(shipped);
  const kept = stripKeptLine(report);
  if (kept) parts.push(kept);
  if (slim.strippedTop.length > 0 && maxFiles > 0) {
    const shown = slim.strippedTop.slice(0, maxFiles);
    const rows = shown.map((file) => [
      inlineCode(file.path),
      `${formatBytes(file.before)} → ${formatBytes(file.after)}`,
      formatBytes(file.before - file.after),
    ]);
    parts.push('Biggest stripped files:');
    parts.push(table(['File', 'Before → after', 'Saved'], [':--', '--:', '--:'], rows));
    if (shown.length < slim.strippedTop.length) {
      parts.push(truncationNote(shown.length, slim.strippedTop.length, 'stripped files'));
    }
  }
  return parts.join('\n\n');
}

/** Descriptions are slimpy's own markdown; a `|` in one would still split the cell. */
function categoryDescription(category: CategorySaving['category']): string {
  const text = isPruneCategory(category)
    ? CATEGORY_DESCRIPTIONS[category]
    : isFixRule(category)
      ? FIX_DESCRIPTIONS[category]
      : category === 'strip'
        ? STRIP_DESCRIPTION
        : OTHER_DESCRIPTION;
  return text.replace(/\|/g, '\\|');
}

/** The rows' sum beside the measured change: they count only bytes that left the image. */
function totalRow(report: SlimpyReport): string[] {
  const savings = report.slim?.savings ?? [];
  const total = savings.reduce((sum, saving) => sum + saving.bytes, 0);
  const files = savings.reduce((sum, saving) => sum + Math.max(saving.files, 0), 0);
  const delta = report.after ? report.before.size - report.after.size : undefined;
  const measured =
    delta === undefined ? '' : `the image is ${formatBytes(delta)} smaller, as measured`;
  return ['**total**', formatCount(files), `**${formatBytes(total)}**`, measured];
}

/** Bytes deleted in a later layer than the one that holds them: listed, never counted. */
function stillShippedList(report: SlimpyReport): string {
  const entries = report.slim?.stillShipped ?? [];
  if (entries.length === 0) return '';
  const total = entries.reduce((sum, entry) => sum + entry.bytes, 0);
  const lines = entries.slice(0, 10).map((entry) => {
    const where = entry.line === undefined ? '' : `, line ${entry.line}`;
    const what = entry.categories
      .map((part) => `${inlineCode(part.category)} ${formatBytes(part.bytes)}`)
      .join(', ');
    return `- Still shipped in layer ${entry.layer} (${inlineCode(entry.instruction)}${where}): ${formatBytes(entry.bytes)} in ${plural(entry.files, 'file')} (${what}). ${escapeProse(entry.why)} ${escapeProse(entry.fix)}`;
  });
  if (entries.length > 10) lines.push(`- ${truncationNote(10, entries.length, 'layers')}`);
  return [
    `Deleted but still shipped, not counted above (${formatBytes(total)}):`,
    lines.join('\n'),
  ].join('\n\n');
}

function stripKeptLine(report: SlimpyReport): string {
  const kept = report.slim?.stripKept;
  if (!kept) return '';
  const reasons = kept.reasons
    .map((reason) => `${escapeProse(reason.reason)} (${formatCount(reason.files)})`)
    .join('; ');
  const examples = kept.paths.map((path) => inlineCode(path)).join(', ');
  return `Strip kept ${plural(kept.files, 'file')} as they were (${formatBytes(kept.bytes)}), because the stripped copy failed a check: ${reasons}. Among them: ${examples}.`;
}

// Largest files and layers -----------------------------------------------------------------------

function detailsSection(
  report: SlimpyReport,
  limits: Limits,
  measure: (part: Part, text: string) => string,
): string {
  const image = report.mode === 'slim' && report.after ? report.after : report.before;
  const which = image === report.after ? 'slimmed image' : 'image';
  const parts: string[] = [];
  if (image.largestFiles.length > 0 && limits.files > 0) {
    const shown = image.largestFiles.slice(0, limits.files);
    const rows = shown.map((file) => [inlineCode(file.path), formatBytes(file.size)]);
    const lines = [
      `Largest files the ${which}'s own layers add:`,
      table(['File', 'Size'], [':--', '--:'], rows),
    ];
    if (shown.length < image.largestFiles.length) {
      lines.push(truncationNote(shown.length, image.largestFiles.length, 'files'));
    }
    parts.push(measure('files', lines.join('\n\n')));
  }
  if (image.layers.length > 0)
    parts.push(measure('layers', layerTable(image.layers, limits.layers, which)));
  if (parts.length === 0) return '';
  return details(`Largest files and layers of the ${which}`, parts.join('\n\n'));
}

/** The base image's layers are one row: they are not the Dockerfile author's to change. */
function layerTable(layers: LayerRow[], maxRows: number, which: string): string {
  const base = layers.filter((layer) => layer.base);
  const own = layers.filter((layer) => !layer.base);
  const rows: string[][] = [];
  if (base.length > 0) {
    rows.push([
      `base image (${plural(base.length, 'layer')})`,
      formatBytes(sum(base.map((layer) => layer.size))),
      sumOptional(base.map((layer) => layer.compressed)),
    ]);
  }
  const shown = own.slice(0, maxRows);
  for (const layer of shown) {
    rows.push([
      inlineCode(layer.createdBy),
      formatBytes(layer.size),
      optionalBytes(layer.compressed),
    ]);
  }
  const lines = [
    `Layers of the ${which}:`,
    table(['Layer', 'Size', 'Compressed'], [':--', '--:', '--:'], rows),
  ];
  if (shown.length < own.length) lines.push(truncationNote(shown.length, own.length, 'layers'));
  return lines.join('\n\n');
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

function sumOptional(values: Array<number | undefined>): string {
  return values.every((value) => value !== undefined) ? formatBytes(sum(values as number[])) : '—';
}

// Smoke test -----------------------------------------------------------------------------------

function smokeSection(
  report: SlimpyReport,
  limits: Limits,
  measure: (part: Part, text: string) => string,
): string {
  const smoke = report.smoke;
  if (!smoke) return '';
  const runs = [smoke.before, ...(smoke.after ? [smoke.after] : [])];
  const labels: Record<SmokeRun['image'], string> = {
    before: smoke.after ? 'before' : 'this image',
    after: 'after',
  };
  const imageNames: Record<SmokeRun['image'], string> = {
    before: smoke.after ? 'original image' : 'image',
    after: 'slimmed image',
  };
  const rows = runs.map((run) => [
    labels[run.image],
    run.passed ? '✅ passed' : `❌ failed${run.timedOut ? ' (timed out)' : ''}`,
    run.exitCode === null ? '—' : String(run.exitCode),
    run.medianMs === undefined ? '—' : formatDuration(run.medianMs),
  ]);
  const parts = [
    '#### Smoke test',
    `${inlineCode(shellJoin(smoke.command))}`,
    table(['Image', 'Result', 'Exit code', 'Median time'], [':--', ':--', '--:', '--:'], rows),
  ];
  const coldStart = coldStartLine(report);
  if (coldStart) parts.push(coldStart);
  for (const run of runs) {
    if (run.output.trim() === '') continue;
    parts.push(measure('outputChars', outputBlock(run, imageNames[run.image], limits.outputChars)));
  }
  return parts.join('\n\n');
}

function coldStartLine(report: SlimpyReport): string {
  return coldStartSentence(report) ?? '';
}

function outputBlock(run: SmokeRun, imageName: string, maxChars: number): string {
  const summary = `Output on the ${imageName}`;
  if (maxChars <= 0) return `${summary}: *(omitted to fit GitHub’s comment size limit)*`;
  const tail = truncateText(run.output, maxChars, 'tail');
  const truncated = tail.length < run.output.length;
  const note = truncated
    ? ` (truncated: last ${formatCount(tail.length)} of ${formatCount(run.output.length)} characters)`
    : '';
  return details(
    `${summary}${note}`,
    fencedBlock(truncated ? `…\n${tail.slice(tail.indexOf('\n') + 1)}` : tail),
  );
}

/** The command as a POSIX shell would take it, for copying: `python -c 'import duckdb'`. */
function shellJoin(command: string[]): string {
  return command
    .map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`))
    .join(' ');
}

// Patch ----------------------------------------------------------------------------------------

function patchSection(report: SlimpyReport, maxChars: number): string {
  const slim = report.slim;
  if (!slim || slim.patch.trim() === '') return '';
  const where = slim.patchPath ? ` (saved as ${inlineCode(slim.patchPath)})` : '';
  const intro = `#### Make it permanent\n\nApply this patch to keep the slimmed image${where}:`;
  if (maxChars <= 0) return `${intro} *(too long for a comment; see the file)*`;
  const head = truncateText(slim.patch, maxChars, 'head');
  const truncated = head.length < slim.patch.length;
  const lines = plural(slim.patch.replace(/\n$/, '').split('\n').length, 'line');
  const summary = truncated
    ? `Patch (${lines}, truncated: first ${formatCount(head.length)} of ${formatCount(slim.patch.length)} characters)`
    : `Patch (${lines})`;
  // Cut at a line end when there is one, so the last line shown is a whole line of the diff.
  const lastNewline = head.lastIndexOf('\n');
  const content = truncated
    ? `${lastNewline > 0 ? head.slice(0, lastNewline) : head}\n… (truncated)`
    : head;
  return `${intro}\n\n${details(summary, fencedBlock(content, 'diff'))}`;
}

// Notes ----------------------------------------------------------------------------------------

function notesSection(report: SlimpyReport, limits: Limits): string {
  const slim = report.slim;
  const groups: Array<[string, string[]]> = [
    ['What slimpy left alone', slim?.skipped ?? []],
    ['Why', slim?.notes ?? []],
    ['Warnings', [...(slim?.warnings ?? []), ...report.warnings]],
  ];
  const parts: string[] = [];
  let budget = limits.notes;
  for (const [heading, items] of groups) {
    if (items.length === 0) continue;
    const shown = items.slice(0, Math.max(0, budget));
    budget -= shown.length;
    const prefix = heading === 'Warnings' ? '⚠️ ' : '';
    const lines = shown.map(
      (item) => `- ${prefix}${escapeProse(truncateText(item, limits.noteChars, 'head'))}`,
    );
    if (shown.length < items.length) {
      lines.push(`- ${truncationNote(shown.length, items.length, heading.toLowerCase())}`);
    }
    parts.push(`#### ${heading}\n\n${lines.join('\n')}`);
  }
  return parts.join('\n\n');
}

// Verdicts and engine --------------------------------------------------------------------------

function verdictSection(report: SlimpyReport): string {
  const lines: string[] = [];
  const budget = report.budget;
  if (budget) {
    const actual = `${formatBytes(budget.actual)} ${budget.metric}`;
    lines.push(
      budget.over
        ? `❌ **Budget**: ${actual} is over the ${formatBytes(budget.limit)} limit by ${formatBytes(budget.actual - budget.limit)}.`
        : `✅ **Budget**: ${actual} is within the ${formatBytes(budget.limit)} limit.`,
    );
  }
  const growth = report.growth;
  if (growth) lines.push(`${growth.over ? '❌' : '✅'} **Growth**: ${escapeProse(growth.message)}`);
  return lines.length > 0 ? `#### Verdict\n\n${lines.join('\n\n')}` : '';
}

/** What the run cost the user's CI, step by step. */
function timingsLine(report: SlimpyReport): string {
  return report.timings ? `<sub>${escapeProse(timingsSentence(report.timings))}</sub>` : '';
}

function engineLine(report: SlimpyReport): string {
  const e = report.engine;
  const store =
    e.store === 'containerd'
      ? 'containerd image store'
      : `classic store (${escapeText(e.storageDriver)})`;
  const builder = e.builder === 'buildkit' ? 'BuildKit' : 'classic builder';
  const reason = e.builderReason ? ` (${escapeProse(e.builderReason)})` : '';
  return `<sub>Engine: Docker ${escapeText(e.version)} (API ${escapeText(e.apiVersion)}) · ${store} · ${builder}${reason} · report v${report.version}</sub>`;
}
