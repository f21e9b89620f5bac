/**
 * Same-run pruning: where the final image's own stages install Python packages, the prune must run
 * inside the installing RUN. Files deleted in a later layer still ship in the earlier one.
 */
import { Run, type Instruction } from 'dockerfile-ast';
import {
  chainInstructions,
  effectiveUser,
  isPosixShell,
  isRootUser,
  lineOf,
  shellInForce,
  userValue,
  variablesAt,
  workdirAt,
  type PlanContext,
} from './context.js';
import {
  narrowedArgs,
  pruneCommand,
  REMOVE_SCRIPT,
  scriptCopyInstruction,
  scriptMountFlag,
} from './invocation.js';
import { runCommand, offsetAt } from './parse.js';
import { installRoots } from './install-targets.js';
import { installsWithPythonTool } from './python.js';
import { processWord } from './variables.js';
import { appendToRun, insertion, type TextEdit } from './rewrite.js';

export interface SameRunPlan {
  runs: Array<{ line: number }>;
  edits: TextEdit[];
  notes: string[];
  skipped: string[];
}

/** `moved`: lines of RUNs a fix rule merges into a later RUN, whose prune then covers them. */
export function planSameRun(
  context: PlanContext,
  moved: ReadonlySet<number> = new Set(),
): SameRunPlan {
  const plan: SameRunPlan = { runs: [], edits: [], notes: [], skipped: [] };
  const instructions = chainInstructions(context, context.chain);
  const installs = (instruction: Instruction): boolean =>
    instruction instanceof Run &&
    installsWithPythonTool(runCommand(instruction, context.parsed.escapeChar));
  instructions.forEach((instruction, position) => {
    if (!(instruction instanceof Run) || moved.has(lineOf(instruction))) return;
    if (!installs(instruction)) return;
    const later = instructions.slice(position + 1).find(installs);
    planRun(context, instruction, instructions.slice(0, position), plan, later);
  });
  if (plan.runs.length > 0 && !context.mounts) {
    plan.notes.push(
      `Without RUN --mount, a COPY brings the prune script in before each installing RUN; this adds a ~20 kB layer per RUN to the image.`,
    );
  }
  return plan;
}

/**
 * `laterInstall`: a later RUN that installs packages too, with pip or setuptools of an
 * environment this prune would otherwise remove as `packaging`.
 */
function planRun(
  context: PlanContext,
  run: Run,
  before: readonly Instruction[],
  into: SameRunPlan,
  laterInstall: Instruction | undefined,
): void {
  const line = lineOf(run);
  if (!isPosixShell(shellInForce(before))) {
    into.skipped.push(
      `The RUN at line ${line} installs Python packages but was not slimmed: a SHELL instruction replaced the POSIX shell the prune script needs.`,
    );
    return;
  }
  const roots = installRoots({
    command: runCommand(run, context.parsed.escapeChar),
    lookup: variablesAt(context, run),
    workdir: workdirAt(context, run),
  });
  const narrowed = laterInstall
    ? narrowedArgs(context.scriptArgs, { without: ['packaging'] })
    : context.scriptArgs;
  // Guessed roots come with the usual places, and the prune skips a guess that does not exist.
  const args = roots.length > 0 ? [...narrowed, '--also-usual'] : narrowed;
  const appended = appendToRun(context.parsed, run, pruneInvocation(context, args, roots));
  if ('skip' in appended) {
    into.skipped.push(
      `The RUN at line ${line} installs Python packages but was not slimmed: ${appended.skip}.`,
    );
    return;
  }
  into.edits.push(scriptDelivery(context, run, before), ...appended.edits);
  into.runs.push({ line });
  const where =
    roots.length > 0 ? ` (it also searches ${roots.map((root) => `\`${root}\``).join(', ')})` : '';
  into.notes.push(
    `Appended the prune to the RUN at line ${line}, which installs Python packages: files deleted in a later layer still ship in the earlier one, so the prune runs inside the installing RUN, as that RUN's user${where}.`,
  );
  if (laterInstall && narrowed.join(' ') !== context.scriptArgs.join(' ')) {
    into.notes.push(
      `The prune at line ${line} keeps pip, setuptools and wheel: the RUN at line ${lineOf(laterInstall)} still installs packages.`,
    );
  }
}

/** The prune as a command to append to a RUN; the classic builder's copy of it is removed after. */
export function pruneInvocation(
  context: PlanContext,
  args: readonly string[],
  roots: readonly string[],
): string {
  const prune = pruneCommand(args, roots);
  return context.mounts ? prune : `${prune} && ${REMOVE_SCRIPT}`;
}

/** The mount goes right after the RUN keyword; the classic builder's COPY goes on the line above. */
export function scriptDelivery(
  context: PlanContext,
  run: Run,
  before: readonly Instruction[],
): TextEdit {
  const { source } = context.parsed;
  if (context.mounts) {
    const keywordEnd = offsetAt(source, run.getInstructionRange().end);
    return insertion(keywordEnd, ` ${scriptMountFlag(context.scriptPath)}`);
  }
  const user = effectiveUser(before);
  // Written out expanded: the USER may come from a stage whose ARGs are not in scope here.
  const owner =
    user === undefined || isRootUser(userValue(user))
      ? undefined
      : processWord(userValue(user), variablesAt(context, user), context.parsed.escapeChar).value;
  const lineStart = source.lineStarts[run.getRange().start.line] ?? 0;
  return insertion(lineStart, scriptCopyInstruction(context.scriptPath, owner) + source.eol);
}
