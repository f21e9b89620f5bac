/**
 * Package exceptions in a slim run (docs/exceptions.md): what must stay although a rule names it,
 * from the Dockerfile (bytecode compiled on purpose) and from the original image (prune.sh
 * --explain); the probes that let the smoke test see a breakage an import would not; and the
 * notes that name what each exception kept, with its bytes and reason.
 */
import { plannedBytecode, type BytecodeChoice } from '../dockerfile/plan.js';
import { slimpyLabels } from '../engine/labels.js';
import type { MeasuredImage } from '../measure/sizes.js';
import type { PruneCategory } from '../model/categories.js';
import type { KeptException, SlimResult } from '../model/report.js';
import { formatBytes, formatCount } from '../report/format.js';
import { explainExceptions, pythonEnvironments } from '../slim/explain.js';
import { exceptionProbes, keptExceptions } from '../slim/kept.js';
import type { ManifestException } from '../slim/manifest.js';
import type { ScriptSettings } from '../slim/script.js';
import type { SmokeProbe } from '../smoke/auto.js';
import type { RunContext } from './prepare.js';

export interface PackageFacts {
  bytecode?: BytecodeChoice;
  environments: string[];
  exceptions: ManifestException[];
  probes: SmokeProbe[];
}

/** The least time prune.sh --explain gets: it reads every module of a large environment. */
const EXPLAIN_TIMEOUT_MS = 120_000;

/**
 * What the prune script is asked to do: the settings, without the pycache rule when the
 * Dockerfile compiles bytecode on purpose (that choice is the author's, not a leftover).
 */
export function wantedScript(run: RunContext): {
  script: ScriptSettings;
  bytecode?: BytecodeChoice;
} {
  const { settings } = run;
  const bytecode = settings.prune.includes('pycache')
    ? plannedBytecode(run.dockerfileText, {
        target: settings.target,
        buildArgs: settings.buildArgs,
        buildKit: run.engine.builder === 'buildkit',
      })
    : undefined;
  const prune = bytecode ? settings.prune.filter((c) => c !== 'pycache') : [...settings.prune];
  return { script: { strip: settings.strip, prune, keep: settings.keep }, bytecode };
}

/** Lists the package exceptions in the original image; a failure costs only the report's notes. */
export async function readPackages(
  run: RunContext,
  before: MeasuredImage,
  wanted: ScriptSettings,
  bytecode: BytecodeChoice | undefined,
): Promise<PackageFacts> {
  const environments = pythonEnvironments(before.files.entries());
  const explained = await explainExceptions(run.docker, {
    image: before.measurement.id,
    environments,
    prune: wanted.prune,
    keep: wanted.keep,
    timeoutMs: Math.max(run.settings.smokeTimeoutMs, EXPLAIN_TIMEOUT_MS),
    labels: slimpyLabels(run.runId),
    signal: run.signal,
  });
  if ('unavailable' in explained) {
    run.hooks.info(
      `Package exceptions: not listed (${explained.unavailable}); the build still applies them.`,
    );
    return { bytecode, environments, exceptions: [], probes: [] };
  }
  const exceptions = explained.manifest.exceptions;
  const probes = exceptionProbes(exceptions);
  run.hooks.info(
    `Package exceptions in the original image: ${exceptions.length} path(s); ${probes.length} probe(s) for the smoke test.`,
  );
  return { bytecode, environments, exceptions, probes };
}

/** Adds what each exception kept in the delivered image to the result and its notes. */
export function reportKept(
  run: RunContext,
  result: SlimResult,
  facts: PackageFacts,
  images: { before: MeasuredImage; after: MeasuredImage },
): void {
  const kept = keptExceptions({
    exceptions: facts.exceptions,
    environments: facts.environments,
    bytecode: facts.bytecode,
    wanted: run.settings.prune,
    delivered: result.variant.prune,
    before: images.before.files,
    after: images.after.files,
  });
  if (kept.length === 0) return;
  result.exceptions = kept;
  for (const exception of kept) {
    const note = describeKept(exception);
    result.notes.push(note);
    run.hooks.info(note);
  }
}

const WHAT: Record<PruneCategory, string> = {
  tests: 'tests',
  pycache: 'bytecode',
  stubs: 'type stubs',
  sources: 'C/C++ sources and headers',
  'static-libs': 'static libraries',
  packaging: 'setuptools',
  caches: 'caches',
  unused: 'files the traced smoke test never opened',
};

/** One sentence: what was kept, its bytes, the rule it escaped, why, and the source. */
export function describeKept(kept: KeptException): string {
  const files = `${formatCount(kept.files)} file${kept.files === 1 ? '' : 's'}`;
  const source = kept.source ? ` (${kept.source})` : '';
  return (
    `Kept ${formatBytes(kept.bytes)} of ${WHAT[kept.category]} in ${where(kept)} (${files}) ` +
    `from the \`${kept.category}\` rule: ${kept.reason}${source}.`
  );
}

function where(kept: KeptException): string {
  if (kept.id === 'bytecode' || kept.id === 'pkg-resources') {
    return `\`${environmentName(kept.environment)}\``;
  }
  if (kept.id === 'lazy-stubs') return `\`${kept.paths[0]?.split('/')[0] ?? ''}\``;
  const shown = kept.paths.slice(0, 3).map((path) => `\`${path}\``);
  const more = kept.paths.length - shown.length;
  return more > 0 ? `${shown.join(', ')} and ${more} more` : shown.join(', ');
}

/** `/opt/venv/lib/python3.11/site-packages` -> `/opt/venv`; other environments as they are. */
function environmentName(site: string): string {
  return site.replace(/\/lib\/python[^/]*\/(?:site|dist)-packages$/, '') || site;
}
