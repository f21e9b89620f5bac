/**
 * Why a slim run delivers no smaller image, read from what actually happened: the plan, what the
 * prune printed in the slimmed build's log, and the savings measured. The report says which
 * (issue 18: a run that found no environment must not read as a failed smoke test).
 */
import type { SlimPlan } from '../dockerfile/plan.js';
import type { MissingRoot, SlimResult, UnchangedReason } from '../model/report.js';

/** What the prune printed (its lines contain `slimpy:`; the builder may indent them). */
export interface PruneLog {
  /** False when no prune summary was seen: every prune step came from the build cache. */
  ran: boolean;
  /** Roots the prune skipped because they were not directories. */
  missingRoots: string[];
  /** Python environments the prune found, over every prune that ran. */
  environments: number;
}

const MISSING_ROOT = /slimpy: warning: root (.+) does not exist or is not a directory; skipped/;
const SUMMARY = /slimpy: [\d.]+ MB saved in (\d+) environment\(s\)/;

export function readPruneLog(lines: readonly string[]): PruneLog {
  const log: PruneLog = { ran: false, missingRoots: [], environments: 0 };
  for (const line of lines) {
    const missing = MISSING_ROOT.exec(line)?.[1];
    if (missing !== undefined && !log.missingRoots.includes(missing))
      log.missingRoots.push(missing);
    const summary = SUMMARY.exec(line)?.[1];
    if (summary !== undefined) {
      log.ran = true;
      log.environments += Number(summary);
    }
  }
  return log;
}

/** Each missing root with the COPY lines (original Dockerfile) that named it. */
export function missingRoots(plan: SlimPlan, log: PruneLog): MissingRoot[] {
  return log.missingRoots.map((root) => ({
    root,
    lines: plan.derived
      .filter((stage) => stage.roots.includes(root))
      .flatMap((stage) => stage.copyLines),
  }));
}

/** Why the image did not get smaller; undefined when it did. */
export function unchangedReason(
  plan: SlimPlan,
  log: PruneLog,
  slim: Pick<SlimResult, 'savings' | 'missingRoots'>,
): UnchangedReason | undefined {
  if (slim.savings.some((saving) => saving.bytes > 0)) return undefined;
  if (plan.strategy === 'none') {
    return { kind: 'nothing-to-prune', detail: nothingToPrune(plan) };
  }
  if (log.ran && log.environments === 0) {
    return { kind: 'no-environment', detail: noEnvironment(plan, slim.missingRoots ?? []) };
  }
  const found = log.ran
    ? `found ${log.environments} Python environment${log.environments === 1 ? '' : 's'}`
    : 'ran (its build steps came from the cache, so its log is not shown)';
  return {
    kind: 'nothing-removed',
    detail: `the prune ${found} but removed nothing: no file in them matches a rule that is on`,
  };
}

function nothingToPrune(plan: SlimPlan): string {
  // The last reason is the one that left nothing: an unresolved COPY source, or no install at all.
  const reason = plan.skipped.at(-1);
  return reason === undefined
    ? 'slimpy found no Python environment to prune'
    : lowerFirst(reason.replace(/\.$/, ''));
}

function noEnvironment(plan: SlimPlan, missing: readonly MissingRoot[]): string {
  if (missing.length > 0) {
    const roots = missing.map(
      (root) =>
        `\`${root.root}\`${root.lines.length > 0 ? ` (COPY at line ${root.lines.join(', ')})` : ''}`,
    );
    return `slimpy found no Python environment to prune: the root${missing.length === 1 ? '' : 's'} ${roots.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not a directory in the stage copied from`;
  }
  const roots = plan.derived.flatMap((stage) => stage.roots);
  const where =
    roots.length > 0
      ? `under ${roots.map((root) => `\`${root}\``).join(', ')}`
      : 'where the installing RUNs put it';
  return `slimpy found no Python environment to prune: no site-packages or dist-packages ${where}`;
}

/** Every variant failed: what the full slim did, and that no single rule was to blame. */
export function allVariantsFailed(
  exitCode: number | null,
  rules: readonly string[],
): UnchangedReason {
  const how = exitCode === null ? 'without an exit code' : `with exit code ${exitCode}`;
  return {
    kind: 'all-variants-failed',
    detail: `every slimmed variant failed the smoke test: the full slim ${how}, and each variant without one rule (${rules.join(', ')}) too; the original image is delivered`,
  };
}

/** `Nothing in …` -> `nothing in …`; a word in capitals (`COPY`) stays as it is. */
function lowerFirst(text: string): string {
  return /^[A-Z][a-z]/.test(text) ? text.charAt(0).toLowerCase() + text.slice(1) : text;
}
