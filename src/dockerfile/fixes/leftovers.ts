/**
 * `leftovers`: package-manager lists and caches (apt, apk, dnf/yum, pip, uv, Poetry) that a RUN
 * of a shipped stage writes are removed at the end of that same RUN. A later RUN cannot do it:
 * the bytes would still ship in this RUN's layer. The layer facts say which RUN wrote what; a RUN
 * that already cleans up (or caches on a `--mount=type=cache`) has none, and is left alone.
 */
import { Run, type Instruction } from 'dockerfile-ast';
import type { LeftoverFact, LeftoverKind } from '../../model/fixes.js';
import { chainInstructions, isPosixShell, lineOf, shellInForce } from '../context.js';
import { shellQuote } from '../invocation.js';
import { runCommand } from '../parse.js';
import { emptyFixPlan, layerAt, type FixInput, type FixRulePlan } from './rule.js';

/** What each kind is called in a note. */
const KIND_WORDS: Record<LeftoverKind, string> = {
  'apt-lists': 'apt package lists',
  'apt-cache': "apt's package cache",
  'apk-cache': 'the apk cache',
  'dnf-cache': 'the dnf/yum cache',
  'pip-cache': "pip's cache",
  'uv-cache': "uv's cache",
  'poetry-cache': "Poetry's cache",
};

export function planLeftovers(input: FixInput): FixRulePlan {
  const plan = emptyFixPlan();
  const { context } = input;
  const instructions = chainInstructions(context, context.chain);
  instructions.forEach((instruction, position) => {
    if (!(instruction instanceof Run)) return;
    const layer = layerAt(input.facts, lineOf(instruction));
    if (layer === undefined || layer.leftovers.length === 0) return;
    planRun(input, instruction, layer.leftovers, instructions, position, plan);
  });
  return plan;
}

function planRun(
  input: FixInput,
  run: Run,
  leftovers: readonly LeftoverFact[],
  instructions: readonly Instruction[],
  position: number,
  plan: FixRulePlan,
): void {
  const line = lineOf(run);
  const what = describeKinds(leftovers);
  if (!isPosixShell(shellInForce(instructions.slice(0, position)))) {
    plan.skipped.push(
      `The RUN at line ${line} leaves ${what} in the image, but a SHELL instruction replaced the POSIX shell the cleanup needs; remove them at the end of that RUN yourself.`,
    );
    return;
  }
  const later = instructions.slice(position + 1);
  const needed = leftovers.filter((leftover) => laterRunNeeds(input, leftover.kind, later));
  for (const leftover of needed) {
    plan.skipped.push(
      `The RUN at line ${line} leaves ${KIND_WORDS[leftover.kind]} in the image, but a later RUN installs from them without refreshing them; run both in one RUN to have them removed.`,
    );
  }
  const removed = leftovers.filter((leftover) => !needed.includes(leftover));
  if (removed.length === 0) return;
  plan.appends.push({
    run,
    command: cleanupCommand(removed),
    order: 'cleanup',
    note: `Removed ${describeKinds(removed)} at the end of the RUN at line ${line}, which writes them: deleted by a later RUN they would still ship in this one's layer.`,
    what: `leaves ${describeKinds(removed)} in the image`,
  });
}

/** `apt-get clean && rm -rf /var/lib/apt/lists/* /root/.cache/pip`: one command per RUN. */
export function cleanupCommand(leftovers: readonly LeftoverFact[]): string {
  const kinds = new Set(leftovers.map((leftover) => leftover.kind));
  const paths = [
    ...new Set(
      leftovers.flatMap((leftover) =>
        leftover.kind === 'apt-cache' ? [] : [cleanupPath(leftover)],
      ),
    ),
  ];
  const commands = [
    ...(kinds.has('apt-cache') ? ['apt-get clean'] : []),
    ...(paths.length > 0 ? [`rm -rf ${paths.join(' ')}`] : []),
  ];
  return commands.join(' && ');
}

/**
 * Lists and system caches: the directory's content (the directory belongs to the package); the
 * per-user caches: the directory itself. A path the shell would split or expand is quoted.
 */
function cleanupPath(leftover: LeftoverFact): string {
  const system = ['apt-lists', 'apk-cache', 'dnf-cache'].includes(leftover.kind);
  return system ? `${shellQuote(leftover.dir)}/*` : shellQuote(leftover.dir);
}

function describeKinds(leftovers: readonly LeftoverFact[]): string {
  const words = [...new Set(leftovers.map((leftover) => KIND_WORDS[leftover.kind]))];
  return words.length <= 1
    ? (words[0] ?? '')
    : `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`;
}

const APT_NEEDS_LISTS =
  /\bapt(?:-get)?\s+(?:-\S+\s+)*(?:install|build-dep|source|download|upgrade|dist-upgrade|full-upgrade)\b/;
const APT_UPDATE = /\bapt(?:-get)?\s+(?:-\S+\s+)*update\b/;
const APK_ADD = /\bapk\s+(?:-\S+\s+)*add\b/;
const APK_REFRESHES = /\bapk\s+(?:\S+\s+)*?(?:update\b|--update\b|-U\b|--no-cache\b)/;

/**
 * apt installs only from the lists an earlier `apt-get update` left, and apk from its cached
 * index: removing them breaks a later RUN that installs without refreshing them first.
 */
function laterRunNeeds(
  input: FixInput,
  kind: LeftoverKind,
  later: readonly Instruction[],
): boolean {
  if (kind !== 'apt-lists' && kind !== 'apk-cache') return false;
  return later.some((instruction) => {
    if (!(instruction instanceof Run)) return false;
    const command = runCommand(instruction, input.context.parsed.escapeChar);
    return kind === 'apt-lists'
      ? APT_NEEDS_LISTS.test(command) && !APT_UPDATE.test(command)
      : APK_ADD.test(command) && !APK_REFRESHES.test(command);
  });
}
