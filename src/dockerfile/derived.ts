/**
 * Derived stages: for each stage whose Python environment the final image copies, a new stage
 * `FROM <stage>` that runs the prune, and the final chain's `COPY --from=` pointed at it. The
 * original stage stays byte-identical, so the rebuild takes it from the build cache.
 */
import { posix } from 'node:path';
import { Run } from 'dockerfile-ast';
import {
  chainInstructions,
  effectiveUser,
  isPosixShell,
  isRootUser,
  lineList,
  lineOf,
  shellInForce,
  capitalStageLabel,
  stageLabel,
  stageOf,
  userValue,
  variablesAt,
  type PlanContext,
} from './context.js';
import {
  pruneCommand,
  REMOVE_SCRIPT,
  scriptCopyInstruction,
  scriptMountFlag,
} from './invocation.js';
import { runCommand, nextLineStart, offsetAt } from './parse.js';
import {
  containsPythonHome,
  createsPythonEnvironment,
  installsPythonPackages,
  installsWithPythonTool,
  isPythonEnvironmentPath,
  isPythonImage,
} from './python.js';
import type { CopyReference } from './references.js';
import { insertion, replacement, type TextEdit } from './rewrite.js';
import { stageChain } from './stages.js';
import { processWord } from './variables.js';

export interface DerivedStagePlan {
  /** Original index of the stage copied from. */
  source: number;
  /** How the derived stage's FROM names the source stage. */
  sourceName: string;
  derivedName: string;
  roots: string[];
  /** Original index of the stage the derived stage is inserted before. */
  insertBefore: number;
  /** 1-based lines (original file) of the COPY instructions now pointing at the derived stage. */
  copyLines: number[];
}

export interface DerivedStages {
  stages: DerivedStagePlan[];
  /** How many copied-from stages hold Python, whether or not a derived stage could be made. */
  pythonSources: number;
  edits: TextEdit[];
  notes: string[];
  skipped: string[];
}

export function planDerivedStages(
  context: PlanContext,
  copies: readonly CopyReference[],
): DerivedStages {
  const result: DerivedStages = { stages: [], pythonSources: 0, edits: [], notes: [], skipped: [] };
  const names = new Set(context.stages.flatMap((stage) => stage.name?.toLowerCase() ?? []));
  for (const [source, references] of groupBySource(copies)) {
    planDerivedStage(context, source, references, names, result);
  }
  return result;
}

function groupBySource(copies: readonly CopyReference[]): Array<[number, CopyReference[]]> {
  const groups = new Map<number, CopyReference[]>();
  for (const copy of copies) {
    groups.set(copy.source, [...(groups.get(copy.source) ?? []), copy]);
  }
  return [...groups.entries()].sort(([a], [b]) => a - b);
}

function planDerivedStage(
  context: PlanContext,
  source: number,
  references: CopyReference[],
  names: Set<string>,
  into: DerivedStages,
): void {
  const assessment = assessSource(context, source, references);
  into.skipped.push(...assessment.skipped);
  if (assessment.python) into.pythonSources += 1;
  if ('roots' in assessment) addDerivedStage(context, source, references, assessment, names, into);
}

type Assessment =
  | { skipped: string[]; python: boolean }
  | { skipped: string[]; python: true; roots: string[]; reason: string };

/** Whether a derived stage can and should be made for `source`, and over which roots. */
function assessSource(
  context: PlanContext,
  source: number,
  references: readonly CopyReference[],
): Assessment {
  const stage = stageOf(context, source);
  const lines = references.map((reference) => lineOf(reference.copy));
  if (references.some((reference) => reference.stage <= source)) {
    return {
      python: false,
      skipped: [
        `${capitalStageLabel(stage)} is copied from at ${lineList(lines)} by a stage that comes before it or is itself; slimpy leaves that COPY as it is.`,
      ],
    };
  }
  const { roots, unresolved } = copyRoots(context, references);
  const reason = pythonEnvironmentReason(context, source, roots);
  if (reason === undefined) {
    return { python: false, skipped: [notPythonReason(context, source, lines)] };
  }
  const skipped = unresolved.map(
    (path) =>
      `COPY source \`${path}\` from ${stageLabel(stage)} uses a variable slimpy could not resolve, so it is not pruned; pass it as a build arg to include it.`,
  );
  if (roots.length === 0) return { python: true, skipped };
  const chain = stageChain(context.stages, source);
  if (!isPosixShell(shellInForce(chainInstructions(context, chain)))) {
    return {
      python: true,
      skipped: [
        ...skipped,
        `${capitalStageLabel(stage)} sets a SHELL that is not a POSIX shell, so slimpy cannot run its prune script there.`,
      ],
    };
  }
  return { python: true, skipped, roots, reason };
}

/** Inserts `FROM <source> AS <source>-slimpy` with the prune, and points the COPYs at it. */
function addDerivedStage(
  context: PlanContext,
  source: number,
  references: readonly CopyReference[],
  { roots, reason }: { roots: string[]; reason: string },
  names: Set<string>,
  into: DerivedStages,
): void {
  const stage = stageOf(context, source);
  const label = stageLabel(stage);
  const lines = references.map((reference) => lineOf(reference.copy));
  const sourceName = stage.name ?? nameUnnamedStage(context, source, names, into);
  const derivedName = uniqueName(`${sourceName.toLowerCase()}-slimpy`, names);
  const insertBefore = Math.min(...references.map((reference) => reference.stage));
  const user = userSwitch(context, source);
  const point = stageInsertionPoint(context, insertBefore);
  // A derived stage already inserted at this point ends with the blank line this one needs.
  point.afterBlankLine ||= into.stages.some((other) => other.insertBefore === insertBefore);
  into.edits.push(
    insertion(
      point.offset,
      derivedStageText(context, point, { sourceName, derivedName, roots, user }),
    ),
    ...references.map((reference) => pointAt(context, reference, derivedName)),
  );
  into.stages.push({ source, sourceName, derivedName, roots, insertBefore, copyLines: lines });
  into.notes.push(
    `Added stage \`${derivedName}\` (FROM ${sourceName}) before the stage at line ${stageOf(context, insertBefore).line} and pointed the COPY --from at ${lineList(lines)} to it, because ${label} holds a Python environment (${reason}); ${label} itself is unchanged, so its build cache is reused.`,
  );
  if (user) {
    into.notes.push(
      `\`${derivedName}\` runs the prune as root, because ${label} runs as \`${user.current}\`, which may not own every file the prune rewrites.`,
    );
  }
}

/**
 * COPY --from reads its sources from the source stage's filesystem root, not its WORKDIR
 * (moby/moby#35650), so a relative source is rooted at `/`.
 */
function copyRoots(
  context: PlanContext,
  references: readonly CopyReference[],
): { roots: string[]; unresolved: string[] } {
  const roots = new Set<string>();
  const unresolved: string[] = [];
  for (const reference of references) {
    const lookup = variablesAt(context, reference.copy);
    for (const path of reference.paths) {
      const expansion = processWord(path, lookup, context.parsed.escapeChar);
      if (expansion.unresolved.length > 0) unresolved.push(path);
      else roots.add(rootPath(expansion.value));
    }
  }
  return { roots: [...roots], unresolved };
}

function rootPath(path: string): string {
  const normalized = posix.normalize(posix.join('/', path));
  return normalized.length > 1 ? normalized.replace(/\/$/, '') : normalized;
}

/** Why slimpy believes the copied paths hold a Python environment; undefined when they do not. */
function pythonEnvironmentReason(
  context: PlanContext,
  source: number,
  roots: readonly string[],
): string | undefined {
  const chain = stageChain(context.stages, source);
  const runs = chainInstructions(context, chain).flatMap((instruction) =>
    instruction instanceof Run
      ? [{ line: lineOf(instruction), command: runCommand(instruction, context.parsed.escapeChar) }]
      : [],
  );
  // The RUN that installs with a Python tool is the one to cite, not an earlier `apt-get install
  // python3-dev`; the distribution's packages only count when nothing else does.
  const tool = runs.find((run) => installsWithPythonTool(run.command));
  if (tool) return `its RUN at line ${tool.line} installs Python packages`;
  const created = runs.find((run) => createsPythonEnvironment(run.command));
  if (created) {
    const what = installsPythonPackages(created.command)
      ? 'installs Python packages with the OS package manager'
      : 'creates a Python environment';
    return `its RUN at line ${created.line} ${what}`;
  }
  const path = roots.find(isPythonEnvironmentPath);
  if (path !== undefined) return `the copied path \`${path}\` is one`;
  // A Python base image alone only counts when the copy takes the interpreter's own tree with it.
  const base = stageOf(context, chain[0] ?? source).base;
  if (isPythonImage(base) && roots.some(containsPythonHome)) return `it builds on \`${base}\``;
  return undefined;
}

function notPythonReason(context: PlanContext, source: number, lines: number[]): string {
  const stage = stageOf(context, source);
  const base = stageOf(context, stageChain(context.stages, source)[0] ?? source).base;
  return isPythonImage(base)
    ? `${capitalStageLabel(stage)} builds on \`${base}\`, but what is copied from it (${lineList(lines)}) holds no Python packages, so it is left as it is.`
    : `${capitalStageLabel(stage)} is copied from (${lineList(lines)}) but holds no Python environment, so it is left as it is.`;
}

/**
 * A FROM can name an earlier stage but not index it, so an unnamed stage gets a name. Stage names
 * are not part of any cache key, so the stage is still taken from the cache.
 */
function nameUnnamedStage(
  context: PlanContext,
  index: number,
  names: Set<string>,
  into: DerivedStages,
): string {
  const stage = stageOf(context, index);
  const name = uniqueName(`stage-${index}`, names);
  const image = stage.from.getImageRange() ?? stage.from.getRange();
  const end = offsetAt(context.parsed.source, image.end);
  into.edits.push(insertion(end, ` AS ${name}`));
  into.notes.push(
    `Named stage ${index} \`${name}\` (added \`AS ${name}\` to its FROM at line ${stage.line}), because a FROM can refer to an earlier stage only by name; stage names do not affect the build cache.`,
  );
  return name;
}

function uniqueName(base: string, names: Set<string>): string {
  let name = base;
  for (let n = 2; names.has(name); n += 1) name = `${base}-${n}`;
  names.add(name);
  return name;
}

interface UserSwitch {
  current: string;
  /** The USER to switch back to; undefined when it cannot be written outside its stage. */
  restore: string | undefined;
}

/** The prune rewrites files in place, which a non-root USER may not be allowed to do. */
function userSwitch(context: PlanContext, source: number): UserSwitch | undefined {
  const chain = stageChain(context.stages, source);
  const user = effectiveUser(chainInstructions(context, chain));
  if (user === undefined) return undefined;
  const current = userValue(user);
  if (isRootUser(current)) return undefined;
  // Written out expanded: the source stage's ARGs are not in scope in the derived stage.
  const expansion = processWord(current, variablesAt(context, user), context.parsed.escapeChar);
  return {
    current,
    restore:
      expansion.unresolved.length === 0 && expansion.value !== '' ? expansion.value : undefined,
  };
}

interface InsertionPoint {
  offset: number;
  /** True when a blank line precedes the point, so the new stage only needs one after it. */
  afterBlankLine: boolean;
}

/**
 * Where a stage goes in before stage `index`: after the last blank line above its FROM, so the
 * comments that introduce that FROM stay with it; else right after the previous stage.
 */
function stageInsertionPoint(context: PlanContext, index: number): InsertionPoint {
  const { source } = context.parsed;
  const previous = stageOf(context, index - 1).instructions.at(-1);
  if (previous === undefined) throw new Error(`stage ${index - 1} has no instructions`);
  const previousEnd = previous.getRange().end.line;
  const from = stageOf(context, index).from.getRange().start.line;
  for (let line = from - 1; line > previousEnd; line -= 1) {
    const text = source.text.slice(source.lineStarts[line], nextLineStart(source, line));
    if (text.trim() === '') return { offset: nextLineStart(source, line), afterBlankLine: true };
  }
  return { offset: nextLineStart(source, previousEnd), afterBlankLine: false };
}

interface DerivedStageShape {
  sourceName: string;
  derivedName: string;
  roots: string[];
  user: UserSwitch | undefined;
}

function derivedStageText(
  context: PlanContext,
  point: InsertionPoint,
  shape: DerivedStageShape,
): string {
  const { scriptPath, scriptArgs, mounts } = context;
  const prune = pruneCommand(scriptArgs, shape.roots);
  const lines = [
    `# slimpy: ${shape.sourceName} with its Python files pruned; the final image copies from here.`,
    `FROM ${shape.sourceName} AS ${shape.derivedName}`,
    ...(shape.user ? ['USER root'] : []),
    ...(mounts ? [] : [scriptCopyInstruction(scriptPath)]),
    mounts ? `RUN ${scriptMountFlag(scriptPath)} ${prune}` : `RUN ${prune} && ${REMOVE_SCRIPT}`,
    ...(shape.user?.restore ? [`USER ${shape.user.restore}`] : []),
  ];
  const { eol } = context.parsed.source;
  return (point.afterBlankLine ? '' : eol) + lines.map((line) => line + eol).join('') + eol;
}

function pointAt(context: PlanContext, reference: CopyReference, derivedName: string): TextEdit {
  const range = reference.flag.getValueRange();
  if (range === null) throw new Error(`COPY at line ${lineOf(reference.copy)} has no --from value`);
  const { source } = context.parsed;
  return replacement(
    source,
    offsetAt(source, range.start),
    offsetAt(source, range.end),
    derivedName,
  );
}
