/** The results as markdown: what the terminal prints, latest.md holds and README quotes. Pure. */
import type {
  BenchResults,
  BytesResults,
  CompressedResults,
  ExampleResults,
  LowerBound,
  MachineFacts,
  SavingsCheck,
  ScenarioTiming,
  SmokeOutcome,
  ToolchainResults,
  TimeResults,
  TraceFigures,
  Variant,
} from './results.js';
import { formatBytes } from '../src/report/format.js';

export function renderResults(results: BenchResults): string {
  return [
    machineLine(results),
    ...results.examples.flatMap((example) => renderExample(example)),
    ...(results.toolchain ? renderToolchain(results.toolchain) : []),
    '#### What the figures mean',
    '',
    ...Object.entries(results.definitions).map(([term, meaning]) => `- **${term}**: ${meaning}`),
    '',
  ].join('\n');
}

function machineLine(results: BenchResults): string {
  const m: MachineFacts = results.machine;
  const e = m.engine;
  const load = (l: number[] | undefined): string => (l ? String(l[0]) : '?');
  return (
    `Measured ${results.date.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')} in one run ` +
    `(${Math.round(results.benchSeconds)} s; every figure once) on ${m.cpus} CPUs (${m.cpuModel}), ` +
    `${gib(m.memoryBytes)} memory, Linux ${m.kernel}, Node ${m.node}; Docker Engine ${e.version} ` +
    `(API ${e.apiVersion}), ${e.store} image store (${e.storageDriver}), ${e.builder} builder; ` +
    `Python base \`${m.baseImage}\`; load average ${load(m.loadAtStart)} at the start, ` +
    `${load(m.loadAtEnd)} at the end (the machine is shared).\n`
  );
}

function renderExample(example: ExampleResults): string[] {
  const section = (lines: string[]): string[] => (lines.length > 0 ? [...lines, ''] : []);
  return [
    `### ${example.name}`,
    '',
    `Smoke test: \`${example.smoke}\``,
    '',
    ...section(example.bytes ? bytesTable(example.bytes) : []),
    ...section(example.bytes ? savingsLines(example.bytes.savings) : []),
    ...traceTable(example.trace),
    ...section(example.time ? timeTable(example.time) : []),
    ...section(example.compressed ? compressedTable(example.compressed) : []),
  ];
}

function bytesTable(bytes: BytesResults): string[] {
  const { original, slimpy, millpond, millpondTolerant, lowerBound } = bytes;
  const reference = original.size ?? 0;
  const row = (variant: Variant): string => {
    if (!variant.built || variant.size === undefined) {
      return `| ${variant.label} | not built: ${cell(variant.buildError ?? '')} | | | | | no image |`;
    }
    return (
      `| ${variant.label}${variant.note ? ` (${cell(variant.note)})` : ''} | ${mb(variant.size)} | ` +
      `${saved(reference, variant.size)} | ${gapClosed(reference, variant.size, lowerBound.size)} | ` +
      `${gapClosed(reference, variant.size, lowerBound.strippedSize)} | ` +
      `${variant.compressed === undefined ? '–' : mb(variant.compressed)} | ${smokeCell(variant.smoke)} |`
    );
  };
  return [
    '| Image | Size | Saved | Gap to bound closed | Gap to stripped bound closed | Compressed | Smoke test |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
    `| original | ${mb(reference)} | – | – | – | ${original.compressed === undefined ? '–' : mb(original.compressed)} | ${smokeCell(original.smoke)} |`,
    row(slimpy),
    ...(bytes.slimpyUnused ? [row(bytes.slimpyUnused)] : []),
    ...(millpond ? [row(millpond)] : []),
    ...(millpondTolerant ? [row(millpondTolerant)] : []),
    ...boundRows(reference, lowerBound),
  ];
}

/** "Where the bytes went" against the measured change, and what the fix rules took. */
function savingsLines(check: SavingsCheck): string[] {
  const apart = check.delta !== 0 ? (Math.abs(check.rows - check.delta) / check.delta) * 100 : 0;
  const share =
    check.findingsLeftoversAndInputs > 0
      ? `${((check.fixedLeftoversAndInputs / check.findingsLeftoversAndInputs) * 100).toFixed(1)} %`
      : '–';
  return [
    `- Where the bytes went: the rows add up to ${mb(check.rows)}; the image shrank by ${mb(check.delta)} (${apart.toFixed(2)} % apart).`,
    `- Fix rules: the \`leftovers\` and \`install-inputs\` rows removed ${mb(check.fixedLeftoversAndInputs)} of the ${mb(check.findingsLeftoversAndInputs)} the findings attribute to package-manager leftovers and install inputs (${share}).`,
  ];
}

function boundRows(reference: number, bound: LowerBound): string[] {
  const traced = bound.tracedSmoke.passed
    ? ''
    : ` (traced smoke test ${smokeCell(bound.tracedSmoke)})`;
  return [
    `| lower bound: base + the ${bound.files} files the smoke test opens or runs${traced} | ${mb(bound.size)} | ` +
      `${saved(reference, bound.size)} | 100 % | ${gapClosed(reference, bound.size, bound.strippedSize)} | – | – |`,
    `| lower bound, those files as slimpy stripped them | ${mb(bound.strippedSize)} | ` +
      `${saved(reference, bound.strippedSize)} | – | 100 % | – | – |`,
  ];
}

/** slimpy's trace against the bench's measurements; nothing for results from before it existed. */
function traceTable(trace: TraceFigures | undefined): string[] {
  if (!trace) return [];
  if (trace.status !== 'traced') {
    return [
      `slimpy could not trace the smoke test: ${cell(trace.reason ?? 'no reason given')}.`,
      '',
    ];
  }
  const share = (part: number, whole: number): string =>
    whole > 0 ? `${((part / whole) * 100).toFixed(1)} %` : '–';
  const rows = [
    `| used / Python environments | ${mb(trace.usedBytes)} of ${mb(trace.environmentBytes)} (${share(trace.usedBytes, trace.environmentBytes)}) |`,
    `| used without bytecode vs the strace bound in the same environments | ${mb(trace.usedSourceBytes)} vs ${mb(trace.boundEnvironmentBytes)} (${signedPercent(trace.differencePercent, 2)}) |`,
    `| bytecode read / all bytecode | ${mb(trace.usedBytecodeBytes)} of ${mb(trace.bytecodeBytes)} |`,
    `| \`pycache\` saves (keeping what the test reads) / what it saved before (all bytecode) | ${mb(trace.pycacheSavedBytes)} of ${mb(trace.bytecodeBytes)} (${share(trace.pycacheSavedBytes, trace.bytecodeBytes)}) |`,
  ];
  if (trace.coldStart) {
    const c = trace.coldStart;
    rows.push(
      `| cold start, default run: original → slimmed (median of 5) | ${secs(c.beforeMs / 1000)} → ${secs(c.afterMs / 1000)} (${signedPercent((c.deltaMs / c.beforeMs) * 100, 1)}) |`,
    );
  }
  if (trace.overhead) {
    const o = trace.overhead;
    rows.push(
      `| smoke test in the original, untraced → traced (median of ${o.runs}) | ${secs(o.untracedMs / 1000)} → ${secs(o.tracedMs / 1000)} (${signedPercent(((o.tracedMs - o.untracedMs) / o.untracedMs) * 100, 1)}) |`,
    );
  }
  return ['| Trace | |', '| --- | ---: |', ...rows, ''];
}

function timeTable(time: TimeResults): string[] {
  const steps = (t: ScenarioTiming): string =>
    t.pipeline.steps
      .map((s) => `${s.step} ${secs(s.seconds)}${s.overlapped ? ' (in parallel)' : ''}`)
      .join(' · ');
  const scenarios: Array<[string, ScenarioTiming]> = [
    ['cold', time.cold],
    ['warm', time.warm],
    ['pull request', time.pullRequest],
  ];
  return [
    `| Build cache (image: ${mb(time.imageSize)}) | Plain build | slimpy pipeline | Pipeline ÷ plain |`,
    '| --- | ---: | ---: | ---: |',
    ...scenarios.map(
      ([name, t]) =>
        `| ${name} | ${secs(t.plainSeconds)} | ${secs(t.pipeline.seconds)} | ${times(t.ratio)} |`,
    ),
    '',
    ...scenarios.map(([name, t]) => `- Pipeline steps, ${name}: ${steps(t)}.`),
  ];
}

function compressedTable(c: CompressedResults): string[] {
  const vsGzip = (bytes: number): string =>
    signedPercent(((bytes - c.gzip.bytes) / c.gzip.bytes) * 100, 2);
  return [
    `| Compressed size of the original image (${c.layers} layers, ${mb(c.tarBytes)} of layer tars) | Time | Speed-up | Bytes | vs gzip -6 |`,
    '| --- | ---: | ---: | ---: | ---: |',
    `| GNU gzip -6, one layer after another (\`${cell(c.gzip.command)}\`; the docker save + unpack before it, ${secs(c.gzip.exportSeconds)}, is not counted) | ${secs(c.gzip.seconds)} | 1× | ${c.gzip.bytes.toLocaleString('en-US')} | – |`,
    `| Node's zlib level 6, one stream per layer, one after another (the library slimpy deflates with) | ${secs(c.nodeZlib.seconds)} | ${times(c.gzip.seconds / c.nodeZlib.seconds)} | ${c.nodeZlib.bytes.toLocaleString('en-US')} | ${vsGzip(c.nodeZlib.bytes)} |`,
    `| slimpy, empty size cache (${c.concurrency} chunks deflating at once) | ${secs(c.slimpyCold.seconds)} | ${times(c.gzip.seconds / c.slimpyCold.seconds)} | ${c.slimpyCold.bytes.toLocaleString('en-US')} | ${vsGzip(c.slimpyCold.bytes)} |`,
    `| slimpy, warm size cache (${c.slimpyWarm.fromCache} of ${c.layers} layers cached) | ${secs(c.slimpyWarm.seconds)} | ${times(c.gzip.seconds / c.slimpyWarm.seconds)} | ${c.slimpyWarm.bytes.toLocaleString('en-US')} | ${vsGzip(c.slimpyWarm.bytes)} |`,
    '',
    `vs gzip -6: how many more (+) or fewer (−) bytes slimpy counts than GNU gzip; the largest ` +
      `difference for one layer over 1 MiB is ${signedPercent(c.worstLayerDifferencePercent, 2)}. ` +
      'slimpy’s cold time includes reading the export from the engine, hashing and indexing every ' +
      'layer; with a warm cache every layer is known and nothing is exported.',
  ];
}

function smokeCell(smoke: SmokeOutcome | undefined): string {
  if (!smoke) return 'not run';
  if (smoke.passed) return 'passed';
  const last = (smoke.outputTail ?? '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .pop();
  return `**failed** (exit ${smoke.exitCode ?? 'killed'})${last ? `: ${cell(last.slice(0, 160))}` : ''}`;
}

/** Share of the way from the original to the bound that `size` goes. */
export function gapClosedShare(original: number, size: number, bound: number): number | undefined {
  const gap = original - bound;
  return gap > 0 ? (original - size) / gap : undefined;
}

function gapClosed(original: number, size: number, bound: number): string {
  const share = gapClosedShare(original, size, bound);
  return share === undefined ? '–' : `${Math.round(share * 100)} %`;
}

function saved(original: number, size: number): string {
  return original > 0 ? `${(((original - size) / original) * 100).toFixed(1)} %` : '–';
}

/** Decimal megabytes, as docker prints sizes. */
export function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}

function secs(seconds: number): string {
  return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
}

function times(ratio: number): string {
  return `${ratio < 10 ? ratio.toFixed(1) : Math.round(ratio)}×`;
}

function signedPercent(value: number, digits: number): string {
  return `${value >= 0 ? '+' : '−'}${Math.abs(value).toFixed(digits)} %`;
}

/** Text safe inside a markdown table cell. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();
}

function renderToolchain(t: ToolchainResults): string[] {
  return [
    `### toolchain (\`${t.example}\`)`,
    '',
    `Smoke test: \`${t.smoke}\` (a libpq connection attempt from the app's own C extension)`,
    '',
    '| Original | Delivered | Build toolchain (findings) | Removed by the `toolchain` rule | Toolchain removed | Smoke test | Pipeline |',
    '| ---: | ---: | ---: | ---: | ---: | --- | ---: |',
    `| ${mb(t.original)} | ${mb(t.delivered)} | ${mb(t.findingBytes)} | ${mb(t.removedBytes)} | ` +
      `${(t.removedShare * 100).toFixed(1)} % | ${smokeCell(t.smokeAfter)} | ${secs(t.pipelineSeconds)} |`,
    '',
    ...t.notes.map((note) => `- ${cell(note)}`),
    `- The toolchain finding ${t.findingStays ? 'stays in' : 'is gone from'} the delivered image's report.`,
    ...(t.trace
      ? [
          `- Trace: the smoke test used ${formatBytes(t.trace.usedBytes)} of ${formatBytes(t.trace.environmentBytes)} in the Python environments; ` +
            `without bytecode ${formatBytes(t.trace.usedSourceBytes)} vs ${formatBytes(t.trace.boundBytes)} by strace (${t.trace.boundBytes > 0 ? signedPercent(((t.trace.usedSourceBytes - t.trace.boundBytes) / t.trace.boundBytes) * 100, 2) : '–'}).`,
        ]
      : []),
    '',
  ];
}
