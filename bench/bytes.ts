/**
 * Bytes: the original image, slimpy's default result, the millpond-style script (strict and
 * strip-errors-ignored) and the smoke test's lower bound, all measured the same way here
 * (slimpy's measureImage: `docker images` size, and gzip -6 of each layer).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { BuildError } from '../src/engine/build.js';
import type { SessionResult } from '../src/session.js';
import type { SmokeRun } from '../src/model/report.js';
import { measureImage, type MeasuredImage } from '../src/measure/sizes.js';
import { runSmoke } from '../src/smoke/smoke.js';
import { benchLabels, buildDockerfile, type BenchEngine } from './engine.js';
import { unmillpond, type BenchExample } from './examples.js';
import { measureLowerBound } from './lower-bound.js';
import type { BytesResults, SavingsCheck, SmokeOutcome, Variant } from './results.js';

const SMOKE_TIMEOUT_MS = 5 * 60_000;

export interface BytesOptions {
  example: BenchExample;
  /** The cold pipeline run: its original and delivered images and smoke results. */
  pipeline: SessionResult;
  /** The pipeline run with `prune: all,unused`. */
  unused?: SessionResult;
  /** The base the pipeline built on (PYTHON_IMAGE); the millpond variants build on it too. */
  base: string;
  sizeCacheDir: string;
  store: 'classic' | 'containerd';
  progress: (line: string) => void;
}

export async function measureBytes(
  engine: BenchEngine,
  options: BytesOptions,
): Promise<BytesResults> {
  const { example, pipeline, progress } = options;
  const { report } = pipeline;
  const measure = (image: string): Promise<MeasuredImage> =>
    measureImage(engine.docker, image, {
      compressed: true,
      cacheDir: options.sizeCacheDir,
      baseImage: options.base,
      store: options.store,
    });
  progress('measuring the original and slimpy images');
  const original = await measure(report.before.id);
  const slimmedId = report.after?.id ?? report.before.id;
  const slimmed = await measure(slimmedId);
  const millponds = await millpondVariants(engine, options, measure);
  const slimpyUnused = options.unused && (await unusedVariant(options.unused, measure));
  progress('lower bound: tracing the smoke test');
  const lowerBound = await measureLowerBound(
    engine,
    example.smoke,
    original,
    slimmed,
    report.trace?.environments,
  );
  return {
    original: {
      label: 'original',
      built: true,
      size: original.measurement.size,
      compressed: original.measurement.compressed,
      smoke: outcome(report.smoke?.before),
    },
    slimpy: {
      label: 'slimpy (defaults)',
      built: true,
      size: slimmed.measurement.size,
      compressed: slimmed.measurement.compressed,
      smoke: outcome(report.smoke?.after ?? report.smoke?.before),
      ...slimpyNote(pipeline),
    },
    ...(slimpyUnused ? { slimpyUnused } : {}),
    ...millponds,
    lowerBound,
    savings: savingsCheck(pipeline),
  };
}

async function millpondVariants(
  engine: BenchEngine,
  options: BytesOptions,
  measure: (image: string) => Promise<MeasuredImage>,
): Promise<Pick<BytesResults, 'millpond' | 'millpondTolerant'>> {
  const { example, progress } = options;
  if (!example.millpond) return {};
  await checkFixtures(example);
  progress('millpond-style build, strip errors fail the build');
  const millpond = await millpondVariant(engine, options, measure, {
    label: 'millpond-style script',
    which: 'strict',
  });
  progress('millpond-style build, strip errors ignored');
  const millpondTolerant = await millpondVariant(engine, options, measure, {
    label: 'millpond-style script, strip errors ignored',
    which: 'tolerant',
  });
  return { millpond, millpondTolerant };
}

/** The table's rows against the measured change, and how much of two findings the fixes took. */
function savingsCheck(pipeline: SessionResult): SavingsCheck {
  const { report } = pipeline;
  const savings = report.slim?.savings ?? [];
  const row = (category: string): number =>
    savings.find((saving) => saving.category === category)?.bytes ?? 0;
  return {
    rows: savings.reduce((sum, saving) => sum + saving.bytes, 0),
    delta: report.before.size - (report.after ?? report.before).size,
    findingsLeftoversAndInputs: (report.findings ?? [])
      .filter(
        (finding) => finding.kind === 'package-leftovers' || finding.kind === 'install-inputs',
      )
      .reduce((sum, finding) => sum + finding.bytes, 0),
    fixedLeftoversAndInputs: row('leftovers') + row('install-inputs'),
  };
}

/** The `prune: all,unused` run's delivered image, measured the same way as the others. */
async function unusedVariant(
  pipeline: SessionResult,
  measure: (image: string) => Promise<MeasuredImage>,
): Promise<Variant> {
  const { report } = pipeline;
  const measured = await measure(report.after?.id ?? report.before.id);
  const restored = report.slim?.restored;
  return {
    label: 'slimpy, prune unused',
    built: true,
    size: measured.measurement.size,
    compressed: measured.measurement.compressed,
    smoke: outcome(report.smoke?.after ?? report.smoke?.before),
    ...unusedNote(pipeline, restored),
  };
}

function unusedNote(pipeline: SessionResult, restored: string[] | undefined): { note?: string } {
  const { report } = pipeline;
  if (restored?.length) {
    return { note: `kept ${restored.join(', ')} whole after the smoke test failed without them` };
  }
  if (report.slim && !report.slim.variant.prune.includes('unused')) {
    const why = report.slim.culprit ? 'it broke the smoke test' : report.trace?.reason;
    return { note: `delivered without unused${why ? `: ${why}` : ''}` };
  }
  return slimpyNote(pipeline);
}

/** Builds one millpond fixture on the pipeline's base; a failed build is a result, not an error. */
async function millpondVariant(
  engine: BenchEngine,
  options: BytesOptions,
  measure: (image: string) => Promise<MeasuredImage>,
  variant: { label: string; which: 'strict' | 'tolerant' },
): Promise<Variant> {
  const { label } = variant;
  const { progress } = options;
  const originalId = options.pipeline.report.before.id;
  let id: string;
  try {
    id = await buildDockerfile(engine, {
      context: options.example.context,
      dockerfile: path.resolve(options.example.millpond?.[variant.which] ?? ''),
      buildArgs: { PYTHON_IMAGE: options.base },
    });
  } catch (error) {
    if (!(error instanceof BuildError)) throw error;
    const described = describeBuildError(error);
    progress(`  build failed: ${described}`);
    return { label, built: false, buildError: described };
  }
  const measured = await measure(id);
  const smoke = await runSmoke(engine.docker, {
    before: originalId,
    after: id,
    command: options.example.smoke,
    timeoutMs: SMOKE_TIMEOUT_MS,
    runs: 0,
    labels: benchLabels(engine),
  });
  const result = outcome(smoke.after);
  progress(`  smoke test ${result.passed ? 'passed' : 'FAILED'}`);
  return {
    label,
    built: true,
    size: measured.measurement.size,
    compressed: measured.measurement.compressed,
    smoke: result,
  };
}

/** A fixture must be the example's Dockerfile plus its millpond stage, nothing else. */
async function checkFixtures(example: BenchExample): Promise<void> {
  const dockerfile = await readFile(path.join(example.context, 'Dockerfile'), 'utf8');
  for (const fixture of Object.values(example.millpond ?? {})) {
    const text = await readFile(fixture, 'utf8');
    if (collapseBlankLines(unmillpond(text)) !== collapseBlankLines(dockerfile)) {
      throw new Error(
        `${fixture} is no longer ${example.context}/Dockerfile plus its millpond-style stage: ` +
          'update the fixture so both variants build what slimpy is given.',
      );
    }
  }
}

function collapseBlankLines(text: string): string {
  return text.replace(/\n{3,}/g, '\n\n');
}

function outcome(run: SmokeRun | undefined): SmokeOutcome {
  if (!run) return { passed: false, exitCode: null, outputTail: 'not run' };
  return {
    passed: run.passed,
    exitCode: run.exitCode,
    ...(run.passed ? {} : { outputTail: run.output.slice(-2000) }),
  };
}

function slimpyNote(pipeline: SessionResult): { note?: string } {
  const slim = pipeline.report.slim;
  if (!slim) return { note: 'slimpy did not slim (measure mode)' };
  if (slim.culprit) return { note: `delivered without ${slim.culprit} (it broke the smoke test)` };
  if (!pipeline.report.after || pipeline.report.after.id === pipeline.report.before.id) {
    return { note: 'no slimmed variant passed; slimpy delivered the original' };
  }
  return {};
}

/**
 * The failing RUN's exit status and its last line of output. BuildKit delivers output in the
 * pieces it was written in (strip writes `strip`, `: FILE` and `: file format not recognized`
 * apart), so the pieces that continue a line (`: …`) are joined back to the one they continue.
 */
function describeBuildError(error: BuildError): string {
  const status = /exit code: \d+/.exec(error.reason)?.[0] ?? firstLine(error.reason);
  const pieces = error.logTail.filter((line) => line.startsWith('   ')).map((line) => line.trim());
  let first = pieces.length - 1;
  while (first > 0 && pieces[first]?.startsWith(':')) first--;
  const output = pieces.slice(Math.max(0, first)).join('');
  return output ? `${status}; ${output}` : status;
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
