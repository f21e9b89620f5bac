/**
 * Which stages' files reach the final image, and through what: `COPY --from=` and
 * `RUN --mount=...,from=` in the final stage's chain, and stage indices anywhere in the file
 * (they shift when a stage is inserted before them).
 */
import { Copy, Run, type Flag, type Instruction } from 'dockerfile-ast';
import { chainInstructions, lineOf, stageOf, variablesAt, type PlanContext } from './context.js';
import { copyWords, offsetAt } from './parse.js';
import { resolveStageReference, stageChain, type StageReference } from './stages.js';

/** dockerfile-ast does not export its FlagOption class by name. */
type FlagOption = ReturnType<Flag['getOptions']>[number];

export interface CopyReference {
  copy: Copy;
  /** The `--from` flag, whose value slimpy may replace. */
  flag: Flag;
  /** Index of the stage that holds the COPY. */
  stage: number;
  /** Index of the stage copied from. */
  source: number;
  /** The source paths as written (the destination removed). */
  paths: string[];
}

export interface MountReference {
  run: Run;
  stage: number;
  source: number;
}

export interface ChainReferences {
  copies: CopyReference[];
  mounts: MountReference[];
  skipped: string[];
}

export function chainReferences(context: PlanContext): ChainReferences {
  const references: ChainReferences = { copies: [], mounts: [], skipped: [] };
  for (const stage of context.chain) {
    for (const instruction of stageOf(context, stage).instructions) {
      if (instruction instanceof Copy) addCopy(context, references, instruction, stage);
      if (instruction instanceof Run) addMounts(context, references, instruction, stage);
    }
  }
  return references;
}

function addCopy(context: PlanContext, into: ChainReferences, copy: Copy, stage: number): void {
  const flag = fromFlag(copy);
  const value = flag?.getValue();
  if (!flag || !value) return;
  const reference = resolveFrom(context, value, copy);
  if (reference.kind === 'stage') {
    const paths = copyWords(copy, context.parsed.escapeChar).slice(0, -1);
    into.copies.push({ copy, flag, stage, source: reference.index, paths });
  } else {
    into.skipped.push(unfollowedCopy(reference, lineOf(copy)));
  }
}

/** dockerfile-ast's getFromFlag() gives up when a COPY has any other flag too. */
function fromFlag(copy: Copy): Flag | undefined {
  return copy.getFlags().find((flag) => flag.getName() === 'from');
}

function unfollowedCopy(reference: StageReference, line: number): string {
  return reference.kind === 'image'
    ? `COPY --from=${reference.image} at line ${line} copies from an image built elsewhere; slimpy leaves it as it is.`
    : `COPY --from=${reference.kind === 'unresolved' ? reference.value : ''} at line ${line} names its source through a variable slimpy could not resolve; pass it as a build arg to have that stage slimmed.`;
}

function addMounts(context: PlanContext, into: ChainReferences, run: Run, stage: number): void {
  for (const value of mountSources(run)) {
    const reference = resolveFrom(context, value, run);
    if (reference.kind === 'stage') into.mounts.push({ run, stage, source: reference.index });
  }
}

function mountSources(run: Run): string[] {
  return mountFromOptions(run).flatMap((option) => option.getValue() ?? []);
}

function mountFromOptions(run: Run): FlagOption[] {
  return run
    .getFlags()
    .filter((flag) => flag.getName() === 'mount')
    .flatMap((flag) => flag.getOptions())
    .filter((option) => option.getName() === 'from');
}

function resolveFrom(
  context: PlanContext,
  value: string,
  instruction: Instruction,
): StageReference {
  const lookup = variablesAt(context, instruction);
  return resolveStageReference(value, context.stages, lookup, context.parsed.escapeChar);
}

/** Stages whose files can end up in the final image: followed through FROM, COPY --from and mounts. */
export function stagesReachingTarget(context: PlanContext): Set<number> {
  const reached = new Set<number>();
  const pending = [context.finalIndex];
  while (pending.length > 0) {
    const index = pending.pop();
    if (index === undefined || reached.has(index)) continue;
    reached.add(index);
    const chain = stageChain(context.stages, index);
    pending.push(...chain, ...referencedStages(context, chainInstructions(context, chain)));
  }
  return reached;
}

function referencedStages(context: PlanContext, instructions: readonly Instruction[]): number[] {
  return instructions.flatMap((instruction) => {
    const values =
      instruction instanceof Copy
        ? [fromFlag(instruction)?.getValue() ?? '']
        : instruction instanceof Run
          ? mountSources(instruction)
          : [];
    return values.flatMap((value) => {
      const reference = value === '' ? undefined : resolveFrom(context, value, instruction);
      return reference?.kind === 'stage' ? [reference.index] : [];
    });
  });
}

/** A literal stage index in a `--from=` flag or a mount's `from=` option, with its exact offsets. */
export interface IndexReference {
  index: number;
  start: number;
  end: number;
  line: number;
}

export function indexReferences(context: PlanContext): IndexReference[] {
  const { source } = context.parsed;
  const ranges = context.stages.flatMap((stage) =>
    stage.instructions.flatMap((instruction) => {
      if (instruction instanceof Copy) return [fromFlag(instruction)?.getValueRange() ?? null];
      if (instruction instanceof Run) {
        return mountFromOptions(instruction).map((option) => option.getValueRange());
      }
      return [];
    }),
  );
  return ranges.flatMap((range) => {
    if (range === null) return [];
    const start = offsetAt(source, range.start);
    const end = offsetAt(source, range.end);
    const value = source.text.slice(start, end);
    if (!/^\d+$/.test(value)) return [];
    return [{ index: Number(value), start, end, line: range.start.line + 1 }];
  });
}

/** 1-based lines of the instructions that name stage `index`: a FROM, a COPY --from, a mount's from. */
export function referencesTo(context: PlanContext, index: number): number[] {
  return context.stages.flatMap((stage) => [
    ...(stage.baseStage === index ? [stage.line] : []),
    ...stage.instructions
      .filter((instruction) => referencedStages(context, [instruction]).includes(index))
      .map(lineOf),
  ]);
}
