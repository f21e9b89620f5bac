/**
 * The original image's smoke-test check, traced (docs/trace.md), and what the rest of slim mode
 * takes from it: the report's advice, and the used-file list the prune script goes by.
 */
import type { MeasuredImage } from '../measure/sizes.js';
import type { SlimResult, SmokeRun, TraceReport } from '../model/report.js';
import { formatBytes } from '../report/format.js';
import type { ScriptSettings } from '../slim/script.js';
import { runTracedSmoke } from '../smoke/trace.js';
import { pythonEnvironments, traceUsage, type ImageFiles, type Usage } from '../smoke/usage.js';
import { smokeRequest } from './culprit.js';
import type { RunContext } from './prepare.js';

export interface OriginalCheck {
  /** The check run of the original image (runSmoke's `checked`). */
  checked: { run: SmokeRun; attempt: number };
  report: TraceReport;
  /** Undefined when the trace could not run. */
  usage?: Usage;
}

export async function checkOriginal(
  run: RunContext,
  before: MeasuredImage,
): Promise<OriginalCheck> {
  const image: ImageFiles = {
    files: before.files,
    baseLayers: before.measurement.layers.filter((layer) => layer.base).length,
  };
  const environments = pythonEnvironments(image);
  const traced = await run.hooks.group('Smoke test: the original image, traced', () =>
    runTracedSmoke(run.docker, {
      ...smokeRequest(run, before.measurement.id, undefined),
      environments,
    }),
  );
  const checked = { run: traced.run, attempt: traced.attempt };
  if (traced.trace.status !== 'traced') {
    run.hooks.info(`The smoke test was not traced: ${traced.trace.reason}`);
    return { checked, report: untraced(image, environments, traced.trace.reason) };
  }
  const usage = traceUsage(image, environments, traced.trace.output, run.settings.keepPackages);
  const r = usage.report;
  run.hooks.info(
    `The smoke test used ${formatBytes(r.usedBytes)} of the ${formatBytes(r.environmentBytes)} in ` +
      `${r.environments.length} Python environment(s) (${r.processes} processes, ${r.stops} traced calls, ` +
      `${(r.durationMs / 1000).toFixed(1)} s)`,
  );
  return { checked, report: r, usage };
}

/** An unavailable trace still says how big the environments are. */
function untraced(image: ImageFiles, environments: string[], reason: string): TraceReport {
  const empty = traceUsage(image, environments, {
    paths: [],
    distributions: [],
    processes: 0,
    stops: 0,
    durationMs: 0,
  }).report;
  return { ...empty, status: 'unavailable', reason, packages: [], unusedLibraries: [] };
}

/**
 * The prune settings the trace allows: with a trace, its used-file list (and the user's
 * keep-packages); without one, `unused` cannot be applied and is dropped with a note.
 */
export function tracedScript<T extends ScriptSettings>(
  wanted: T,
  original: OriginalCheck,
  keepPackages: readonly string[],
  result: SlimResult,
): T {
  if (original.usage) return { ...wanted, traced: original.usage.kept, keepPackages };
  if (!wanted.prune.includes('unused')) return wanted;
  result.skipped.push(
    `\`unused\` was not applied: it needs the trace of the smoke test, which could not run (${original.report.reason ?? 'no reason given'}).`,
  );
  return { ...wanted, prune: wanted.prune.filter((category) => category !== 'unused') };
}
