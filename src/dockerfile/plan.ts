/**
 * Plans the slimmed Dockerfile: which stages get a pruned derived copy, which RUNs get the prune
 * appended, and the exact text edits that do it. Pure: the Dockerfile text in, the plan out.
 */
import { Run } from 'dockerfile-ast';
import { compiledBytecode, type BytecodeChoice } from './bytecode.js';
import { lineOf, capitalStageLabel, stageLabel, stageOf, type PlanContext } from './context.js';
import { planDerivedStages, type DerivedStagePlan } from './derived.js';
import { planFixes, type FixesPlan, type FixOptions, type FixOutcome } from './fixes/index.js';
import { assertUsableScriptPath } from './invocation.js';
import { runCommand, parseDockerfile, type ParsedDockerfile } from './parse.js';
import { createsPythonEnvironment, isPythonImage } from './python.js';
import {
  chainReferences,
  indexReferences,
  stagesReachingTarget,
  type ChainReferences,
} from './references.js';
import { applyTextEdits, replacement, type TextEdit } from './rewrite.js';
import { planSameRun } from './same-run.js';
import { hostPlatform, platformArgs } from './platform.js';
import { computeScopes } from './scope.js';
import {
  findTargetStage,
  globalArgLookup,
  listStages,
  resolveStages,
  stageChain,
} from './stages.js';

export { DockerfileError } from './parse.js';
export type { BytecodeChoice } from './bytecode.js';
export type { FixOptions, FixOutcome } from './fixes/index.js';
export { finalBaseImage, listStages, type StageSummary } from './stages.js';
export type { TextEdit } from './rewrite.js';

export interface PlanOptions {
  /** Build target stage name; default = last stage. */
  target?: string;
  /** Resolves ARG values in FROM lines (ARG before FROM with defaults). */
  buildArgs?: Record<string, string>;
  /** True: may use RUN --mount; false: classic builder (no --mount, no heredocs). */
  buildKit: boolean;
  /** The platform BuildKit builds for (`linux/amd64`), for TARGETARCH and the like; default: this machine's. */
  platform?: string;
  /** POSIX path of the prune script inside the build context, e.g. `.slimpy/prune.sh`. */
  scriptPath: string;
  /** Option words for the script, placed before the roots (already validated; shell-quoted here). */
  scriptArgs: string[];
  /** Fix rules to plan beside the prune, with what was measured on the original image. */
  fixes?: FixOptions;
}

export interface DerivedStage {
  /** The stage copied from, by name (an unnamed stage is given `stage-<n>`). */
  stage: string;
  derivedName: string;
  /** Absolute paths the prune runs over: the sources the final image copies. */
  roots: string[];
  /** 1-based line of the source stage's FROM in the original Dockerfile. */
  line: number;
  /** 1-based lines of the COPY --from instructions (original Dockerfile) now pointing at it. */
  copyLines: number[];
  /** 1-based line of the derived stage's FROM in the slimmed Dockerfile. */
  insertedAtLine: number;
}

export interface SlimPlan {
  /** The stage being built, in the original Dockerfile (line numbers 1-based). */
  finalStage: { index: number; name?: string; line: number };
  strategy: 'derived-stages' | 'same-run' | 'fixes' | 'none';
  derived: DerivedStage[];
  /** RUN instructions the prune was appended to (1-based lines of the original Dockerfile). */
  sameRun: Array<{ line: number }>;
  /** The slimmed Dockerfile. */
  text: string;
  /** One sentence per choice made, for the report. */
  notes: string[];
  /** What was not done and why. */
  skipped: string[];
  /**
   * The `--target` to build `text` with: the requested target, unchanged. Derived stages always go
   * before the final stage, so with no target the last stage is still the one built.
   */
  buildTarget?: string;
  /** The edits that turn the original into `text`; offsets index the original. */
  edits: TextEdit[];
  /** The fix rules that changed something, with the lines whose bytes they remove. */
  fixes: FixOutcome[];
  /** Per fix rule, what it could have done but did not, and why (also in `skipped`). */
  fixSkipped: FixesPlan['skippedBy'];
  /** True when the slimmed Dockerfile runs the prune script (its file goes into the build). */
  usesPruneScript: boolean;
}

export function planSlim(dockerfile: string, options: PlanOptions): SlimPlan {
  assertUsableScriptPath(options.scriptPath);
  const planned = planContext(parseDockerfile(dockerfile), options);
  // The fix rules append after the prune, and may add words to it (where the prune runs does not
  // depend on its words).
  const prunedRuns = new Set(planSameRun(planned).runs.map((run) => run.line));
  const anywhere =
    prunedRuns.size > 0 ||
    planDerivedStages(planned, chainReferences(planned).copies).stages.length > 0;
  const fixes = planFixes(planned, options.fixes, { runs: prunedRuns, anywhere });
  const context = { ...planned, scriptArgs: [...planned.scriptArgs, ...fixes.scriptArgs] };
  const references = chainReferences(context);
  const derived = planDerivedStages(context, references.copies);
  const sameRun = planSameRun(context, new Set(fixes.moved));
  const renumbered = renumberIndices(context, derived.stages, derived.edits);
  const edits = [...derived.edits, ...renumbered.edits, ...sameRun.edits, ...fixes.edits];
  const text = applyTextEdits(dockerfile, edits);
  const skipped = [
    ...references.skipped,
    ...derived.skipped,
    ...mountedOnly(context, references),
    ...sameRun.skipped,
    ...unreachedPython(context),
    ...fixes.skipped,
  ];
  if (derived.pythonSources === 0 && sameRun.runs.length === 0 && sameRun.skipped.length === 0) {
    skipped.push(nothingToPrune(context));
  }
  const plan: SlimPlan = {
    finalStage: finalStageSummary(context),
    strategy: strategyOf(derived.stages.length, sameRun.runs.length, fixes.outcomes.length),
    derived: describeDerived(context, derived.stages, text, fixes.stagesAdded),
    sameRun: sameRun.runs,
    text,
    notes: [
      ...frontendNotes(context, options, edits),
      ...derived.notes,
      ...renumbered.notes,
      ...sameRun.notes,
      ...fixes.notes,
    ],
    skipped,
    edits,
    fixes: fixes.outcomes,
    fixSkipped: fixes.skippedBy,
    usesPruneScript: derived.stages.length > 0 || sameRun.runs.length > 0 || fixes.runsPruneScript,
  };
  if (options.target !== undefined) plan.buildTarget = options.target;
  return plan;
}

/**
 * Bytecode the Dockerfile compiles on purpose (bytecode.ts): asked before planning, because the
 * pycache rule is then left out of the prune script's words.
 */
export function plannedBytecode(
  dockerfile: string,
  options: Pick<PlanOptions, 'target' | 'buildArgs' | 'buildKit' | 'platform'>,
): BytecodeChoice | undefined {
  return compiledBytecode(
    planContext(parseDockerfile(dockerfile), { ...options, scriptPath: '', scriptArgs: [] }),
  );
}

function planContext(parsed: ParsedDockerfile, options: PlanOptions): PlanContext {
  const buildArgs = options.buildArgs ?? {};
  const automaticArgs = options.buildKit ? platformArgs(options.platform ?? hostPlatform()) : {};
  const stages = resolveStages(parsed, buildArgs);
  const finalIndex = findTargetStage(stages, options.target);
  const globals = globalArgLookup(parsed, buildArgs, automaticArgs);
  return {
    parsed,
    stages,
    finalIndex,
    chain: stageChain(stages, finalIndex),
    buildArgs,
    scriptPath: options.scriptPath,
    scriptArgs: options.scriptArgs,
    mounts: options.buildKit && !pinsFrontendWithoutMounts(parsed.syntax),
    scopes: computeScopes(parsed, stages, { buildArgs, automaticArgs, globals }),
  };
}

/** RUN --mount arrived in the Dockerfile frontend 1.2; a `# syntax=` pinned below it has none. */
function pinsFrontendWithoutMounts(syntax: string | undefined): boolean {
  return syntax !== undefined && /(?:^|\/)dockerfile:1\.[01](?:\.\d+)?$/.test(syntax.trim());
}

function frontendNotes(
  context: PlanContext,
  options: PlanOptions,
  edits: readonly TextEdit[],
): string[] {
  if (!options.buildKit || context.mounts || edits.length === 0) return [];
  return [
    `The \`# syntax=${context.parsed.syntax ?? ''}\` line pins a Dockerfile frontend without RUN --mount, so a COPY brings the prune script in instead.`,
  ];
}

function strategyOf(derived: number, sameRun: number, fixes: number): SlimPlan['strategy'] {
  if (derived > 0) return 'derived-stages';
  if (sameRun > 0) return 'same-run';
  return fixes > 0 ? 'fixes' : 'none';
}

function finalStageSummary(context: PlanContext): SlimPlan['finalStage'] {
  const stage = stageOf(context, context.finalIndex);
  return stage.name === undefined
    ? { index: stage.index, line: stage.line }
    : { index: stage.index, name: stage.name, line: stage.line };
}

/**
 * A stage inserted before stage n shifts the index of stage n and every stage after it, so a
 * `--from=<index>` pointing there is renumbered. References slimpy already pointed at a derived
 * stage by name are left to that edit.
 */
function renumberIndices(
  context: PlanContext,
  derived: readonly DerivedStagePlan[],
  derivedEdits: readonly TextEdit[],
): { edits: TextEdit[]; notes: string[] } {
  const replaced = new Set(
    derivedEdits.filter((edit) => edit.removed !== '').map((edit) => edit.offset),
  );
  const result: { edits: TextEdit[]; notes: string[] } = { edits: [], notes: [] };
  for (const reference of indexReferences(context)) {
    const shift = derived.filter((stage) => stage.insertBefore <= reference.index).length;
    if (shift === 0 || replaced.has(reference.start)) continue;
    const renumbered = String(reference.index + shift);
    result.edits.push(
      replacement(context.parsed.source, reference.start, reference.end, renumbered),
    );
    result.notes.push(
      `Renumbered the stage index ${reference.index} at line ${reference.line} to ${renumbered}, because the inserted stage before it shifts the index of every later stage.`,
    );
  }
  return result;
}

/** A stage mounted into a RUN ships only what that RUN installs, which same-run pruning covers. */
function mountedOnly(context: PlanContext, references: ChainReferences): string[] {
  const copied = new Set(references.copies.map((copy) => copy.source));
  const reported = new Set<number>();
  return references.mounts.flatMap((mount) => {
    if (copied.has(mount.source) || reported.has(mount.source)) return [];
    reported.add(mount.source);
    return [
      `${capitalStageLabel(stageOf(context, mount.source))} is only mounted by the RUN at line ${lineOf(mount.run)}; its files do not ship, only what that RUN installs does.`,
    ];
  });
}

function unreachedPython(context: PlanContext): string[] {
  const reached = stagesReachingTarget(context);
  return context.stages
    .filter((stage) => stage.index < context.finalIndex && !reached.has(stage.index))
    .filter((stage) =>
      stage.instructions.some(
        (instruction) =>
          instruction instanceof Run &&
          createsPythonEnvironment(runCommand(instruction, context.parsed.escapeChar)),
      ),
    )
    .map(
      (stage) =>
        `${capitalStageLabel(stage)} (line ${stage.line}) installs Python packages, but nothing from it reaches the final image, so it is left as it is.`,
    );
}

function nothingToPrune(context: PlanContext): string {
  const final = stageOf(context, context.finalIndex);
  const root = stageOf(context, context.chain[0] ?? context.finalIndex);
  if (isPythonImage(root.base)) {
    return `The final ${stageLabel(final)} installs no Python packages itself, so its Python comes from the base image \`${root.base}\`, whose layers a rebuild cannot shrink.`;
  }
  return `Nothing in the final ${stageLabel(final)} or the stages it copies from installs Python packages, so there is nothing to prune.`;
}

/** Finds each derived stage in the slimmed text, which also proves the result still parses as planned. */
function describeDerived(
  context: PlanContext,
  derived: readonly DerivedStagePlan[],
  text: string,
  stagesAdded: number,
): DerivedStage[] {
  if (derived.length === 0) return [];
  const slimmed = listStages(text, context.buildArgs);
  const expected = context.stages.length + derived.length + stagesAdded;
  if (slimmed.length !== expected) {
    throw new Error(
      `slimpy's rewrite produced ${slimmed.length} stages instead of ${expected}; please report this with the Dockerfile`,
    );
  }
  return derived.map((stage) => {
    const inserted = slimmed.find((summary) => summary.name === stage.derivedName);
    if (inserted === undefined) throw new Error(`derived stage ${stage.derivedName} is missing`);
    return {
      stage: stage.sourceName,
      derivedName: stage.derivedName,
      roots: stage.roots,
      line: stageOf(context, stage.source).line,
      copyLines: stage.copyLines,
      insertedAtLine: inserted.line,
    };
  });
}
