/**
 * The findings once slim mode is done: a finding a fix rule removed from the delivered image is
 * left out of the report, and one the rule did not remove says why (the rule is off, could not be
 * planned, or broke the smoke test or the build). Pure.
 */
import type { SlimPlan } from '../dockerfile/plan.js';
import type { FixRule } from '../model/fixes.js';
import type { Finding, FindingKind } from '../model/report.js';

/** The finding each fix rule takes on whole. */
const REMOVED_BY: Partial<Record<FindingKind, FixRule>> = { 'build-toolchain': 'toolchain' };

export interface SlimDelivery {
  /** The fix rules the settings turn on. */
  rulesOn: readonly FixRule[];
  /** The plan with every rule the settings turn on. */
  wanted: SlimPlan;
  /** The plan of the delivered image; undefined when the original is delivered. */
  delivered: SlimPlan | undefined;
  /** The rule the culprit search took out, if any. */
  culprit: string | undefined;
}

export function settleFindings(findings: readonly Finding[], delivery: SlimDelivery): Finding[] {
  return findings.flatMap((finding) => {
    const rule = REMOVED_BY[finding.kind];
    if (rule === undefined) return [finding];
    const applied = delivery.delivered?.fixes.find((fix) => fix.rule === rule);
    if (applied !== undefined && finding.line !== undefined && applied.lines.includes(finding.line))
      return [];
    const why = unfixedReason(rule, delivery);
    return why === undefined ? [finding] : [{ ...finding, unfixed: why }];
  });
}

function unfixedReason(rule: FixRule, delivery: SlimDelivery): string | undefined {
  if (!delivery.rulesOn.includes(rule)) return `the \`${rule}\` fix rule is off (\`fix\` input).`;
  if (delivery.culprit === rule) {
    return `the image without it failed the smoke test or the build, so the culprit search delivered the variant without the \`${rule}\` rule.`;
  }
  if (delivery.delivered === undefined) {
    return 'no slimmed variant passed the smoke test; the original image is delivered.';
  }
  const skipped = delivery.wanted.fixSkipped[rule];
  return skipped === undefined ? undefined : skipped.join(' ');
}

/**
 * Findings worked out again with every compressed size, as slim mode settled them: those it left
 * out (a fix rule removed them) stay out, and those it kept keep the reason they were not fixed.
 */
export function asSettled(fresh: readonly Finding[], settled: readonly Finding[]): Finding[] {
  const same = (a: Finding, b: Finding): boolean =>
    a.kind === b.kind && a.line === b.line && a.title === b.title;
  return fresh.flatMap((finding) => {
    const kept = settled.find((other) => same(other, finding));
    if (!kept) return [];
    return kept.unfixed === undefined ? [finding] : [{ ...finding, unfixed: kept.unfixed }];
  });
}
