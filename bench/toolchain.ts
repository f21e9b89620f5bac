/**
 * The toolchain example (examples/toolchain): one stage installs gcc, libpq's and Python's
 * headers, builds the app's own C extension linking libpq, and ships all of it. One slimpy
 * pipeline run with its defaults, every instruction built (a fresh base), measures how much of the
 * toolchain the findings report leaves the delivered image (the `toolchain` row of "Where the
 * bytes went"), which way the rule took, what it kept and why, and whether the smoke test, a libpq
 * connection attempt from the extension, passes in the delivered image.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readSettings } from '../src/inputs.js';
import { imageFindings } from '../src/measure/findings.js';
import { measureImage, type MeasuredImage } from '../src/measure/sizes.js';
import { runSession } from '../src/session.js';
import { freshBase, type BenchEngine } from './engine.js';
import type { SlimpyReport } from '../src/model/report.js';
import { measureLowerBound } from './lower-bound.js';
import type { ToolchainResults } from './results.js';
import { loggingHooks } from './timing.js';

export const TOOLCHAIN_EXAMPLE = { context: 'examples/toolchain', smoke: 'pgping' };

export async function benchToolchain(
  engine: BenchEngine,
  options: {
    pythonImage: string;
    workspace: string;
    workDir: string;
    progress: (line: string) => void;
  },
): Promise<ToolchainResults> {
  const base = await freshBase(engine, options.pythonImage, `${engine.runId}-toolchain`);
  const inputs: Record<string, string> = {
    context: TOOLCHAIN_EXAMPLE.context,
    'build-args': `PYTHON_IMAGE=${base}`,
    network: 'host',
    'smoke-test': TOOLCHAIN_EXAMPLE.smoke,
  };
  const settings = readSettings((name) => inputs[name] ?? '', {
    workspace: options.workspace,
    outputDir: path.join(options.workDir, 'pipeline'),
    cacheDir: path.join(options.workDir, 'size-cache'),
    runId: `${engine.runId}-toolchain`,
  });
  const hooks = loggingHooks(path.join(options.workDir, 'pipeline.log'), options.progress);
  const started = performance.now();
  const { report } = await runSession(settings, { hooks, publish: async () => undefined });
  const seconds = (performance.now() - started) / 1000;
  // The report leaves out a finding the rule removed: measure the original's findings again.
  const original = await measureImage(engine.docker, report.before.id, {
    compressed: false,
    baseImage: base,
  });
  const measured = await toolchainFindingBytes(engine, original, base);
  const removed = report.slim?.savings.find((row) => row.category === 'toolchain')?.bytes ?? 0;
  const after = report.smoke?.after;
  const trace = await traceAgainstBound(engine, report, original, base);
  return {
    example: TOOLCHAIN_EXAMPLE.context,
    smoke: TOOLCHAIN_EXAMPLE.smoke,
    original: report.before.size,
    delivered: report.after?.size ?? report.before.size,
    findingBytes: measured,
    removedBytes: removed,
    removedShare: measured > 0 ? removed / measured : 0,
    notes: (report.slim?.notes ?? []).filter((note) =>
      /^(?:Moved|Removed|Made|Kept|Packages that leave)/.test(note),
    ),
    findingStays: report.findings?.some((finding) => finding.kind === 'build-toolchain') ?? false,
    smokeAfter: after
      ? { passed: after.passed, exitCode: after.exitCode, outputTail: after.output.slice(-300) }
      : { passed: false, exitCode: null },
    pipelineSeconds: seconds,
    ...(trace ? { trace } : {}),
  };
}

/** The report's trace figure against the strace lower bound of the same smoke test. */
async function traceAgainstBound(
  engine: BenchEngine,
  report: SlimpyReport,
  original: MeasuredImage,
  base: string,
): Promise<ToolchainResults['trace']> {
  const trace = report.trace;
  if (trace?.status !== 'traced' || !report.after) return undefined;
  const slimmed = await measureImage(engine.docker, report.after.id, {
    compressed: false,
    baseImage: base,
  });
  const bound = await measureLowerBound(
    engine,
    TOOLCHAIN_EXAMPLE.smoke,
    original,
    slimmed,
    trace.environments,
  );
  return {
    usedBytes: trace.usedBytes,
    environmentBytes: trace.environmentBytes,
    usedSourceBytes: trace.usedBytes - trace.usedBytecodeBytes,
    boundBytes: bound.environmentBytes ?? 0,
  };
}

/** The bytes the findings report for the build toolchain in an image of the example. */
async function toolchainFindingBytes(
  engine: BenchEngine,
  measured: MeasuredImage,
  base: string,
): Promise<number> {
  const findings = await imageFindings(engine.docker, measured, {
    dockerfile: readFileSync(path.join(TOOLCHAIN_EXAMPLE.context, 'Dockerfile'), 'utf8'),
    buildArgs: { PYTHON_IMAGE: base },
    baseImage: base,
  });
  return findings
    .filter((finding) => finding.kind === 'build-toolchain')
    .reduce((sum, finding) => sum + finding.bytes, 0);
}
