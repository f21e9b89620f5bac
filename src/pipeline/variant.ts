/** Building a variant of the user's Dockerfile (as it is, or slimmed) and measuring an image. */
import type { SlimPlan } from '../dockerfile/plan.js';
import { instructionLine } from '../dockerfile/parse.js';
import { BuildError, buildImage } from '../engine/build.js';
import { createContextTar } from '../engine/context.js';
import { slimpyLabels } from '../engine/labels.js';
import {
  completeMeasurement,
  measureImage,
  type MeasureOptions,
  type MeasuredImage,
} from '../measure/sizes.js';
import { loadPruneScript, PRUNE_SCRIPT_PATH } from '../slim/script.js';
import type { RunContext } from './prepare.js';

/**
 * Builds the user's Dockerfile as it is (plan undefined) or a slimmed variant of it; `onLine`
 * also gets each line of the build log. `script` is the prune script the build gets
 * (pruneScriptText: with the smoke test's trace), default the plain one.
 */
export async function buildVariant(
  run: RunContext,
  plan: SlimPlan | undefined,
  onLine?: (line: string) => void,
  script?: string,
): Promise<string> {
  const { settings } = run;
  const extraFiles = plan?.usesPruneScript
    ? [
        { path: PRUNE_SCRIPT_PATH, content: script ?? loadPruneScript(), mode: 0o755 },
        { path: '.slimpy/Dockerfile', content: plan.text },
      ]
    : plan
      ? [{ path: '.slimpy/Dockerfile', content: plan.text }]
      : [];
  // The slimmed Dockerfile travels as an extra file and is the one the build reads.
  const context = await createContextTar(settings.context, {
    dockerfile: plan ? '.slimpy/Dockerfile' : settings.file,
    extraFiles,
    builder: run.engine.builder,
  });
  return buildImage(run.docker, {
    context: context.stream,
    dockerfile: context.dockerfileInContext,
    target: plan?.buildTarget !== undefined ? String(plan.buildTarget) : settings.target,
    buildArgs: settings.buildArgs,
    network: settings.network,
    builder: run.engine.builder,
    labels: slimpyLabels(run.runId),
    onLine: (line) => {
      run.hooks.info(line);
      onLine?.(line);
    },
    signal: run.signal,
  }).catch((error: unknown) => {
    // Lines of a slimmed variant are lines of the rewritten file; only the user's own count.
    if (error instanceof BuildError) {
      error.line = plan
        ? undefined
        : (error.line ?? instructionLine(run.dockerfileText, error.instruction ?? ''));
    }
    throw error;
  });
}

/**
 * Layers bigger than this are compressed while the slimmed image builds: gzip is the slow part of
 * a measurement, and the plan needs only the index.
 */
export const COMPRESS_FIRST_BYTES = 32 * 1024 * 1024;

/** Measures an image; `compressUpTo` leaves bigger layers for `completeVariant`. */
export async function measureVariant(
  run: RunContext,
  imageId: string,
  compressUpTo?: number,
): Promise<MeasuredImage> {
  const measured = await measureImage(run.docker, imageId, {
    ...measureOptions(run),
    compressUpTo,
  });
  logMeasurement(run, measured);
  return measured;
}

/** The measurement `measureVariant(…, compressUpTo)` began, with every compressed size. */
export async function completeVariant(
  run: RunContext,
  first: MeasuredImage,
): Promise<MeasuredImage> {
  const measured = await completeMeasurement(run.docker, first, measureOptions(run));
  logMeasurement(run, measured);
  return measured;
}

function measureOptions(run: RunContext): MeasureOptions {
  return {
    compressed: run.settings.compressed,
    cacheDir: run.settings.cacheDir,
    baseImage: run.baseImage,
    store: run.engine.store,
    signal: run.signal,
  };
}

function logMeasurement(run: RunContext, measured: MeasuredImage): void {
  const m = measured.measurement;
  const read = measured.layers.filter((layer) => layer.exported).length;
  run.hooks.info(
    `${m.id.slice(0, 19)}: ${m.size} bytes uncompressed` +
      (m.compressed !== undefined
        ? `, ${m.compressed} bytes compressed (${m.compressedFromCache} of ${m.layers.length} layers from cache)`
        : '') +
      `; ${read} of ${m.layers.length} layers read from the image export`,
  );
}
