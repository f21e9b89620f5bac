/**
 * When the slimmed image fails the smoke test: find the rule to blame by rebuilding without one
 * rule at a time, and deliver the first variant that passes.
 */
import type { SlimPlan } from '../dockerfile/plan.js';
import { planSlim } from '../dockerfile/plan.js';
import { slimpyLabels } from '../engine/labels.js';
import { PRUNE_SCRIPT_PATH, pruneScriptArgs, type ScriptSettings } from '../slim/script.js';
import { runSmoke, type SmokeOptions } from '../smoke/smoke.js';
import type { RunContext } from './prepare.js';
import { buildVariant } from './variant.js';

export interface Fallback {
  culprit: string;
  script: ScriptSettings;
  imageId: string;
}

export function planFor(run: RunContext, script: ScriptSettings): SlimPlan {
  return planSlim(run.dockerfileText, {
    target: run.settings.target,
    buildArgs: run.settings.buildArgs,
    buildKit: run.engine.builder === 'buildkit',
    scriptPath: PRUNE_SCRIPT_PATH,
    scriptArgs: pruneScriptArgs(script),
  });
}

export function smokeRequest(
  run: RunContext,
  before: string,
  after: string | undefined,
): SmokeOptions {
  return {
    before,
    after,
    command: run.settings.smokeTest,
    timeoutMs: run.settings.smokeTimeoutMs,
    labels: slimpyLabels(run.runId),
    signal: run.signal,
  };
}

/** The variants to try, each without one rule: strip first, then each category in order. */
export function culpritCandidates(
  wanted: ScriptSettings,
): Array<{ culprit: string; script: ScriptSettings }> {
  const candidates: Array<{ culprit: string; script: ScriptSettings }> = [];
  if (wanted.strip) candidates.push({ culprit: 'strip', script: { ...wanted, strip: false } });
  for (const category of wanted.prune) {
    candidates.push({
      culprit: category,
      script: { ...wanted, prune: wanted.prune.filter((c) => c !== category) },
    });
  }
  return candidates;
}

/** Keeps the first variant whose smoke test passes; its missing rule is the culprit. */
export async function findCulprit(
  run: RunContext,
  wanted: ScriptSettings,
  originalId: string,
): Promise<Fallback | undefined> {
  for (const candidate of culpritCandidates(wanted)) {
    run.hooks.info(`Trying without ${describeRule(candidate.culprit)}`);
    const imageId = await buildVariant(run, planFor(run, candidate.script));
    const smoke = await runSmoke(run.docker, {
      ...smokeRequest(run, originalId, imageId),
      runs: 1,
    });
    if (smoke.after?.passed) {
      run.hooks.warning(
        `${describeRule(candidate.culprit)} breaks the smoke test; slimpy delivers the variant without it.`,
      );
      return { ...candidate, imageId };
    }
  }
  return undefined;
}

export function describeRule(rule: string): string {
  return rule === 'strip' ? 'Stripping debug symbols' : `\`${rule}\` removal`;
}
