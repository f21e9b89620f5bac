/**
 * When the slimmed image fails the smoke test (or a fix rule makes it fail to build): find the
 * rule to blame by rebuilding without one rule at a time, and deliver the first variant that
 * builds and passes.
 */
import type { SlimPlan } from '../dockerfile/plan.js';
import { planSlim } from '../dockerfile/plan.js';
import { BuildError } from '../engine/build.js';
import { slimpyLabels } from '../engine/labels.js';
import { isFixRule, type FixFacts, type FixRule } from '../model/fixes.js';
import type { Finding } from '../model/report.js';
import { PRUNE_SCRIPT_PATH, pruneScriptArgs, type ScriptSettings } from '../slim/script.js';
import type { SmokeProbe } from '../smoke/auto.js';
import { runSmoke, type SmokeOptions } from '../smoke/smoke.js';
import type { RunContext } from './prepare.js';
import { buildVariant } from './variant.js';

/** One way to slim: the prune script's settings and the fix rules applied. */
export interface Variant extends ScriptSettings {
  fix: readonly FixRule[];
}

/** What the fix rules plan from, measured on the original image. */
export interface OriginalFacts {
  findings: readonly Finding[];
  facts: FixFacts;
}

export interface Fallback {
  culprit: string;
  script: Variant;
  imageId: string;
  /** The log of its build. */
  log: string[];
}

export function planFor(run: RunContext, variant: Variant, original: OriginalFacts): SlimPlan {
  return planSlim(run.dockerfileText, {
    target: run.settings.target,
    buildArgs: run.settings.buildArgs,
    buildKit: run.engine.builder === 'buildkit',
    scriptPath: PRUNE_SCRIPT_PATH,
    scriptArgs: pruneScriptArgs(variant),
    fixes: { rules: variant.fix, findings: original.findings, facts: original.facts },
  });
}

export function smokeRequest(
  run: RunContext,
  before: string,
  after: string | undefined,
  probes: SmokeProbe[] = [],
): SmokeOptions {
  return {
    before,
    after,
    command: run.settings.smokeTest,
    probes,
    timeoutMs: run.settings.smokeTimeoutMs,
    labels: slimpyLabels(run.runId),
    signal: run.signal,
  };
}

/**
 * The variants to try, each without one rule: strip first, then each fix rule that changed the
 * Dockerfile (`active`), then each category in order.
 */
export function culpritCandidates(
  wanted: Variant,
  active: readonly FixRule[] = [],
): Array<{ culprit: string; script: Variant }> {
  const candidates: Array<{ culprit: string; script: Variant }> = [];
  if (wanted.strip) candidates.push({ culprit: 'strip', script: { ...wanted, strip: false } });
  for (const rule of wanted.fix.filter((rule) => active.includes(rule))) {
    candidates.push({
      culprit: rule,
      script: { ...wanted, fix: wanted.fix.filter((r) => r !== rule) },
    });
  }
  for (const category of wanted.prune) {
    candidates.push({
      culprit: category,
      script: { ...wanted, prune: wanted.prune.filter((c) => c !== category) },
    });
  }
  return candidates;
}

/** Keeps the first variant that builds and whose smoke test passes; its missing rule is the culprit. */
export async function findCulprit(
  run: RunContext,
  wanted: Variant,
  original: OriginalFacts & { imageId: string; probes?: SmokeProbe[] },
  active: readonly FixRule[],
): Promise<Fallback | undefined> {
  for (const candidate of culpritCandidates(wanted, active)) {
    run.hooks.info(`Trying without ${describeRule(candidate.culprit)}`);
    const log: string[] = [];
    const imageId = await buildCandidate(run, planFor(run, candidate.script, original), log);
    if (imageId === undefined) continue;
    const smoke = await runSmoke(run.docker, {
      ...smokeRequest(run, original.imageId, imageId, original.probes),
      runs: 1,
    });
    if (smoke.after?.passed) {
      run.hooks.warning(
        `${describeRule(candidate.culprit)} breaks the smoke test; slimpy delivers the variant without it.`,
      );
      return { ...candidate, imageId, log };
    }
  }
  return undefined;
}

/** A variant that does not build is no candidate; the search goes on to the next one. */
async function buildCandidate(
  run: RunContext,
  plan: SlimPlan,
  log: string[],
): Promise<string | undefined> {
  try {
    return await buildVariant(run, plan, (line) => log.push(line));
  } catch (error) {
    if (!(error instanceof BuildError)) throw error;
    run.hooks.info(`That variant does not build: ${error.reason}`);
    return undefined;
  }
}

export function describeRule(rule: string): string {
  if (rule === 'strip') return 'Stripping debug symbols';
  return isFixRule(rule) ? `\`${rule}\` fix` : `\`${rule}\` removal`;
}
