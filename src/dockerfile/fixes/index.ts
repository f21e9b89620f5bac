/**
 * The fix rules, registered in one table, and the framework that runs the chosen ones: each rule
 * plans on its own from the same input (rule.ts), then their edits are put together: the
 * commands several rules append to one RUN become one `&& …` after the prune.
 */
import type { FixFacts, FixRule } from '../../model/fixes.js';
import { FIX_RULES } from '../../model/fixes.js';
import type { Finding } from '../../model/report.js';
import { lineOf, type PlanContext } from '../context.js';
import { appendToRun, type TextEdit } from '../rewrite.js';
import { planDuplicates } from './duplicates.js';
import { planEarlierLayers } from './earlier-layers.js';
import { planInstallInputs } from './install-inputs.js';
import { planLeftovers } from './leftovers.js';
import type { FixInput, FixOutcome, FixPlanner, FixRulePlan, RunAppend } from './rule.js';
import { planToolchain } from './toolchain.js';

export type { FixOutcome } from './rule.js';

/** Where to add a rule: its name in src/model/fixes.ts, its planner here (docs/architecture.md). */
export const FIX_PLANNERS: Record<FixRule, FixPlanner> = {
  leftovers: planLeftovers,
  'install-inputs': planInstallInputs,
  duplicates: planDuplicates,
  'earlier-layers': planEarlierLayers,
  toolchain: planToolchain,
};

/** The fix rules to plan, and what was measured on the original image for them. */
export interface FixOptions {
  rules: readonly FixRule[];
  findings: readonly Finding[];
  facts: FixFacts;
}

export interface FixesPlan {
  edits: TextEdit[];
  /** How many stages the rules add. */
  stagesAdded: number;
  /** 1-based lines of the RUNs the rules merge into later RUNs (the prune goes with them). */
  moved: number[];
  /** Per rule, what it could have done but did not, and why (also in `skipped`). */
  skippedBy: Partial<Record<FixRule, string[]>>;
  scriptArgs: string[];
  runsPruneScript: boolean;
  notes: string[];
  skipped: string[];
  /** The rules that changed something, with the lines whose bytes they remove. */
  outcomes: FixOutcome[];
}

/** Plans the chosen rules (in FIX_RULES order) and joins their edits. */
export function planFixes(
  context: PlanContext,
  options: FixOptions | undefined,
  prune: { runs: ReadonlySet<number>; anywhere: boolean },
): FixesPlan {
  const prunedRuns = prune.runs;
  const result: FixesPlan = {
    edits: [],
    stagesAdded: 0,
    moved: [],
    skippedBy: {},
    scriptArgs: [],
    runsPruneScript: false,
    notes: [],
    skipped: [],
    outcomes: [],
  };
  if (options === undefined) return result;
  const input: FixInput = {
    context,
    findings: options.findings,
    facts: options.facts,
    prunedRuns,
    prunes: prune.anywhere,
  };
  const planned = FIX_RULES.filter((rule) => options.rules.includes(rule)).map((rule) => ({
    rule,
    plan: FIX_PLANNERS[rule](input),
  }));
  const appended = appendAll(context, planned, prunedRuns);
  for (const { rule, plan } of planned) {
    result.edits.push(...plan.edits);
    result.runsPruneScript ||= plan.runsPruneScript;
    result.scriptArgs.push(...plan.scriptArgs.filter((arg) => !result.scriptArgs.includes(arg)));
    result.notes.push(...plan.notes, ...(appended.notes.get(rule) ?? []));
    const skipped = [...plan.skipped, ...(appended.skipped.get(rule) ?? [])];
    result.skipped.push(...skipped);
    if (skipped.length > 0) result.skippedBy[rule] = skipped;
    result.stagesAdded += plan.stagesAdded ?? 0;
    result.moved.push(...(plan.moves ?? []).map((move) => lineOf(move.from)));
    const lines = [...plan.lines, ...(appended.lines.get(rule) ?? [])];
    const changed = plan.edits.length > 0 || plan.scriptArgs.length > 0 || lines.length > 0;
    if (changed) result.outcomes.push({ rule, lines: [...new Set(lines)].sort((a, b) => a - b) });
  }
  result.edits.push(...appended.edits);
  result.runsPruneScript ||= appended.runsPruneScript;
  return result;
}

interface Appended {
  edits: TextEdit[];
  runsPruneScript: boolean;
  notes: Map<FixRule, string[]>;
  skipped: Map<FixRule, string[]>;
  lines: Map<FixRule, number[]>;
}

/** One edit per RUN: its commands in order (prunes, purges, cleanups), after the prune if any. */
function appendAll(
  context: PlanContext,
  planned: ReadonlyArray<{ rule: FixRule; plan: FixRulePlan }>,
  prunedRuns: ReadonlySet<number>,
): Appended {
  const result: Appended = {
    edits: [],
    runsPruneScript: false,
    notes: new Map(),
    skipped: new Map(),
    lines: new Map(),
  };
  const byRun = new Map<number, Array<{ rule: FixRule; append: RunAppend }>>();
  // A RUN another rule merged into a later one: what is appended to it goes to the later one.
  const moved = new Map(
    planned.flatMap(({ plan }) => plan.moves ?? []).map((move) => [lineOf(move.from), move.to]),
  );
  for (const { rule, plan } of planned) {
    for (const original of plan.appends) {
      const append = { ...original, run: moved.get(lineOf(original.run)) ?? original.run };
      const line = lineOf(append.run);
      byRun.set(line, [...(byRun.get(line) ?? []), { rule, append }]);
    }
  }
  for (const [line, appends] of [...byRun].sort(([a], [b]) => a - b)) {
    const ordered = (['prune', 'purge', 'cleanup'] as const).flatMap((order) =>
      appends.filter(({ append }) => append.order === order),
    );
    const command = ordered.map(({ append }) => append.command).join(' && ');
    const run = ordered[0]!.append.run;
    const edit = appendToRun(context.parsed, run, command, { chained: prunedRuns.has(line) });
    for (const { rule, append } of ordered) {
      if ('skip' in edit) {
        push(result.skipped, rule, `The RUN at line ${line} ${append.what}, but ${edit.skip}.`);
      } else {
        push(result.notes, rule, append.note);
        push(result.lines, rule, line);
      }
    }
    if ('edits' in edit) {
      result.edits.push(...ordered.flatMap(({ append }) => append.with ?? []), ...edit.edits);
      result.runsPruneScript ||= ordered.some(({ append }) => append.order === 'prune');
    }
  }
  return result;
}

function push<T>(map: Map<FixRule, T[]>, rule: FixRule, value: T): void {
  map.set(rule, [...(map.get(rule) ?? []), value]);
}
