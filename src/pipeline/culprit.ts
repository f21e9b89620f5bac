/**
 * When the slimmed image fails the smoke test (or a fix rule makes it fail to build): with
 * `unused` on, first the distributions to restore (restore.ts); else, or when that does not help,
 * find the rule to blame by rebuilding without one rule at a time, and deliver the first variant
 * that builds and passes.
 */
import type { SlimPlan } from '../dockerfile/plan.js';
import { planSlim } from '../dockerfile/plan.js';
import { BuildError } from '../engine/build.js';
import { slimpyLabels } from '../engine/labels.js';
import { isFixRule, type FixFacts, type FixRule } from '../model/fixes.js';
import type { Finding, SmokeRun } from '../model/report.js';
import {
  PRUNE_SCRIPT_PATH,
  pruneScriptArgs,
  pruneScriptText,
  type ScriptSettings,
} from '../slim/script.js';
import type { SmokeProbe } from '../smoke/auto.js';
import { runSmoke, type SmokeOptions } from '../smoke/smoke.js';
import type { RunContext } from './prepare.js';
import { restoreUnused } from './restore.js';
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

/** The original image as the search knows it. */
export interface OriginalImage extends OriginalFacts {
  imageId: string;
  /** Its smoke-test check run, when it ran already (traced): not run again. */
  checked?: { run: SmokeRun; attempt: number };
  /** Distributions `unused` takes files from (smoke/usage.ts): what a restore can bring back. */
  prunable?: readonly string[];
  /** Package exceptions' probes the smoke test runs (with `auto`). */
  probes?: SmokeProbe[];
}

export interface Fallback {
  culprit: string;
  script: Variant;
  imageId: string;
  /** The log of its build. */
  log: string[];
  /** `unused` stays, with these distributions kept whole (restore.ts). */
  restored?: string[];
  /** Variants the restore search built. */
  builds?: number;
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
 * The variants to try, each without one rule: `unused` first (the one rule that holds only for
 * what the smoke test runs), then strip, then each fix rule that changed the Dockerfile
 * (`active`), then each category in order.
 */
export function culpritCandidates(
  wanted: Variant,
  active: readonly FixRule[] = [],
): Array<{ culprit: string; script: Variant }> {
  const candidates: Array<{ culprit: string; script: Variant }> = [];
  if (wanted.prune.includes('unused')) {
    const prune = wanted.prune.filter((c) => c !== 'unused');
    candidates.push({ culprit: 'unused', script: { ...wanted, prune } });
  }
  if (wanted.strip) candidates.push({ culprit: 'strip', script: { ...wanted, strip: false } });
  for (const rule of wanted.fix.filter((rule) => active.includes(rule))) {
    candidates.push({
      culprit: rule,
      script: { ...wanted, fix: wanted.fix.filter((r) => r !== rule) },
    });
  }
  for (const category of wanted.prune.filter((c) => c !== 'unused')) {
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
  original: OriginalImage,
  active: readonly FixRule[],
): Promise<Fallback | undefined> {
  const restored = await restoreDistributions(run, wanted, original);
  if (restored) return restored;
  for (const candidate of culpritCandidates(wanted, active)) {
    run.hooks.info(`Trying without ${describeRule(candidate.culprit)}`);
    const log: string[] = [];
    const imageId = await tryVariant(run, candidate.script, original, { log, runs: 1 });
    if (imageId !== undefined) {
      run.hooks.warning(
        `${describeRule(candidate.culprit)} breaks the smoke test; slimpy delivers the variant without it.`,
      );
      return { ...candidate, imageId, log };
    }
  }
  return undefined;
}

/** With `unused` on: the variant that keeps the fewest distributions whole and passes. */
async function restoreDistributions(
  run: RunContext,
  wanted: Variant,
  original: OriginalImage,
): Promise<Fallback | undefined> {
  const { prunable } = original;
  if (!wanted.prune.includes('unused') || !original.checked || !prunable?.length) return undefined;
  const logs = new Map<string, string[]>();
  const found = await restoreUnused(
    wanted,
    prunable,
    async (script) => {
      const log: string[] = [];
      const imageId = await tryVariant(run, { ...wanted, ...script }, original, { log, runs: 0 });
      if (imageId !== undefined) logs.set(imageId, log);
      return imageId;
    },
    (line) => run.hooks.info(line),
  );
  if (!found) return undefined;
  run.hooks.warning(
    `\`unused\` removal breaks the smoke test without the files of ${found.restored.join(', ')}; slimpy kept them.`,
  );
  return {
    culprit: 'unused',
    script: { ...wanted, ...found.script },
    imageId: found.imageId,
    log: logs.get(found.imageId) ?? [],
    restored: found.restored,
    builds: found.builds,
  };
}

/** Builds one variant (with its trace) and smoke-tests it: its image id when it builds and passes. */
async function tryVariant(
  run: RunContext,
  variant: Variant,
  original: OriginalImage,
  how: { log: string[]; runs: number },
): Promise<string | undefined> {
  const imageId = await buildCandidate(run, planFor(run, variant, original), variant, how.log);
  if (imageId === undefined) return undefined;
  const smoke = await runSmoke(run.docker, {
    ...smokeRequest(run, original.imageId, imageId, original.probes),
    runs: how.runs,
    checked: original.checked,
  });
  return smoke.after?.passed ? imageId : undefined;
}

/** A variant that does not build is no candidate; the search goes on to the next one. */
async function buildCandidate(
  run: RunContext,
  plan: SlimPlan,
  script: ScriptSettings,
  log: string[],
): Promise<string | undefined> {
  try {
    return await buildVariant(run, plan, (line) => log.push(line), pruneScriptText(script));
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
