/**
 * Before planning: when the `toolchain` fix rule is on and the findings see a toolchain installed
 * by a RUN, measure which packages the stage installed and which the shipped files need at
 * runtime (src/measure/toolchain-facts.ts). A failure to measure is a reason in the report, not
 * the end of the run: the rule then leaves the toolchain where it is.
 */
import { ContainerStartError } from '../engine/containers.js';
import { slimpyLabels } from '../engine/labels.js';
import type { MeasuredImage } from '../measure/sizes.js';
import { ProbeError } from '../measure/runtime-probe.js';
import { measureToolchainFacts } from '../measure/toolchain-facts.js';
import type { FixFacts } from '../model/fixes.js';
import type { Finding } from '../model/report.js';
import type { RunContext } from './prepare.js';

export type ToolchainFactsPart = Pick<FixFacts, 'toolchain' | 'toolchainUnmeasured'>;

export async function measureToolchain(
  run: RunContext,
  before: MeasuredImage,
  findings: readonly Finding[],
): Promise<ToolchainFactsPart> {
  if (!run.settings.fix.includes('toolchain')) return {};
  if (!findings.some((finding) => finding.kind === 'build-toolchain' && finding.keyword === 'RUN'))
    return {};
  const baseImage = run.baseImage;
  if (baseImage === undefined) {
    return { toolchainUnmeasured: 'the shipped stage has no base image to compare it with' };
  }
  return run.hooks.group('Measure what the shipped files need at runtime', async () => {
    try {
      const result = await measureToolchainFacts(run.docker, {
        image: before.measurement.id,
        baseImage,
        layers: before.layers,
        baseLayerCount: before.measurement.layers.filter((layer) => layer.base).length,
        labels: slimpyLabels(run.runId),
        signal: run.signal,
      });
      if ('skip' in result) return { toolchainUnmeasured: result.skip };
      const { facts } = result;
      run.hooks.info(
        `${facts.stagePackages.length} packages installed by the stage, ${facts.buildOnly.length} build-only; ${facts.scanned} ELF files no package owns need ${facts.runtime.map((entry) => entry.name).join(', ') || 'none of them'}`,
      );
      return { toolchain: facts };
    } catch (error) {
      if (!(error instanceof ProbeError || error instanceof ContainerStartError)) throw error;
      return { toolchainUnmeasured: error.message };
    }
  });
}
