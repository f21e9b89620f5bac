/**
 * Same lifetime: the install and the one RUN that builds with it become one RUN, and the
 * build-only packages are removed at its end, so no layer ever holds them. The install moves
 * down into the RUN that uses it (which stays in place, so the prune and other rules still find
 * it): the COPYs between them (small ones only: each change to them now reruns the install) and
 * the ENV, ARG and WORKDIR between them stay where they are, and the install runs with the
 * working directory and variables it had. Anything else between them (another RUN, USER, SHELL,
 * VOLUME) leaves the builder stage to do it.
 */
import { Add, Arg, Copy, Env, Run, Workdir, type Instruction } from 'dockerfile-ast';
import { lineOf, variablesAt } from '../context.js';
import { shellQuote } from '../invocation.js';
import { buildsCode, purgeCommand } from '../package-commands.js';
import { isExecForm, offsetAt, runCommand, nextLineStart } from '../parse.js';
import { appendToRun, hasShellComment, insertion, replacement, type TextEdit } from '../rewrite.js';
import { expandVariables } from '../variables.js';
import type { InstallRun, RewriteAttempt, ToolchainInput } from './shape.js';

/** A COPY up to this size may sit between the install and its use. */
export const SMALL_COPY_BYTES = 1_000_000;

/** Shell built-ins and words after which an inlined command would change the RUN's own shell. */
const CHANGES_SHELL =
  /(?:^|[\s;&|(])(?:cd|export|unset|set|exit|exec|trap|umask|source|alias|shift|readonly|return|\.)(?=\s|$)|\(\)\s*\{/;

export function planSameLifetime(input: ToolchainInput, install: InstallRun): RewriteAttempt {
  const purge = purgeCommand(install.tool, input.facts.purge, input.facts.keep);
  if (purge === undefined) {
    return { reason: `${install.tool} cannot remove packages with what only they pulled in` };
  }
  const line = lineOf(install.run);
  const use = useOf(input, install);
  if ('reason' in use) return use;
  // The prune of a RUN that moves goes with it: into the RUN it joins, which must have one too.
  if (input.prunedRuns.has(line) && !input.prunedRuns.has(lineOf(use.run))) {
    return {
      reason: `the install at line ${line} also installs Python packages, and the RUN that builds with it has no prune to cover them`,
    };
  }
  const appendable = appendToRun(input.context.parsed, use.run, 'true');
  if ('skip' in appendable) {
    return {
      reason: `nothing can be appended to the RUN at line ${lineOf(use.run)}: ${appendable.skip}`,
    };
  }
  if (use.run === install.run) {
    return {
      way: 'same-lifetime',
      edits: [],
      append: { run: install.run, command: purge },
      notes: [
        `Removed the build-only packages at the end of the RUN at line ${line}, which installs them and builds with them (\`${purge}\`): installed and removed in one layer, they never ship.`,
      ],
      lines: [line],
    };
  }
  return moveInstall(input, install, use, purge);
}

interface Use {
  run: Run;
  position: number;
}

/** The one RUN after the install that builds with it, or the install itself when it builds too. */
function useOf(input: ToolchainInput, install: InstallRun): Use | { reason: string } {
  const escape = input.context.parsed.escapeChar;
  const uses: Use[] = [];
  install.instructions.forEach((instruction, position) => {
    if (position <= install.position || !(instruction instanceof Run)) return;
    if (buildsCode(runCommand(instruction, escape))) uses.push({ run: instruction, position });
  });
  const [use, ...others] = uses;
  if (others.length > 0) {
    return {
      reason: `the RUNs at lines ${uses.map((u) => lineOf(u.run)).join(', ')} all build with them, and only one RUN can share their layer`,
    };
  }
  if (use !== undefined) return use;
  if (buildsCode(runCommand(install.run, escape))) {
    return { run: install.run, position: install.position };
  }
  return { reason: 'no later RUN of the stage recognisably builds with them' };
}

interface Carried {
  /** Variables set between the install and its use: `-u NAME` or `NAME=value` as at the install. */
  env: string[];
  /** The install's working directory, when a WORKDIR between them changes it. */
  cd?: string;
  /** COPYs the install now runs after, for the note. */
  copies: Array<{ line: number; bytes: number }>;
}

function moveInstall(
  input: ToolchainInput,
  install: InstallRun,
  use: Use,
  purge: string,
): RewriteAttempt {
  const carried = carryBetween(input, install, use);
  if ('reason' in carried) return carried;
  const moved = movedCommand(input, install, carried);
  if ('reason' in moved) return moved;
  const flags = carriedFlags(input, install.run, use.run);
  if ('reason' in flags) return flags;
  const { source, escapeChar } = input.context.parsed;
  const from = lineOf(install.run);
  const to = lineOf(use.run);
  const argumentsStart = firstArgumentOffset(input, use.run);
  const edits: TextEdit[] = [
    removal(input, install.run, to),
    insertion(argumentsStart, `${moved.text} || exit; ${escapeChar}${source.eol}    `),
    ...flags.edits,
  ];
  return {
    way: 'same-lifetime',
    edits,
    append: { run: use.run, command: purge },
    moved: { from: install.run, to: use.run },
    notes: [
      `Moved the install at line ${from} into the RUN at line ${to}, which builds with it, and removed the build-only packages at that RUN's end (\`${purge}\`): installed and removed in one layer, they never ship.`,
      ...carriedNotes(carried, from),
    ],
    lines: [from, to],
  };
}

function carryBetween(
  input: ToolchainInput,
  install: InstallRun,
  use: Use,
): Carried | { reason: string } {
  const carried: Carried = { env: [], copies: [] };
  const between = install.instructions.slice(install.position + 1, use.position);
  const names = new Set<string>();
  for (const instruction of between) {
    const blocker = blocks(input, instruction, carried);
    if (blocker !== undefined) return { reason: blocker };
    if (instruction instanceof Env || instruction instanceof Arg) {
      for (const property of instruction.getProperties()) names.add(property.getName());
    }
  }
  for (const name of names) {
    const restored = valueAtInstall(input, install.run, name);
    if (restored === undefined) {
      return {
        reason: `\`${name}\` is set between the install and its use, and its value at the install (which uses other variables) cannot be written back`,
      };
    }
    carried.env.push(restored);
  }
  if (between.some((instruction) => instruction instanceof Workdir)) {
    const cd = workdirAt(input, install);
    if (cd === undefined) {
      return {
        reason:
          'a WORKDIR between the install and its use changes the directory, and the one the install ran in uses a variable slimpy cannot resolve',
      };
    }
    carried.cd = cd;
  }
  return carried;
}

/** Why an instruction between the install and its use keeps them apart; undefined when it does not. */
function blocks(
  input: ToolchainInput,
  instruction: Instruction,
  into: Carried,
): string | undefined {
  const line = lineOf(instruction);
  const keyword = instruction.getKeyword().toUpperCase();
  if (instruction instanceof Run) {
    return `the RUN at line ${line} runs between the install and its use, and may need the packages`;
  }
  if (['USER', 'SHELL', 'VOLUME'].includes(keyword)) {
    return `the ${keyword} at line ${line} between the install and its use would change how the install runs`;
  }
  if (instruction instanceof Copy || instruction instanceof Add) {
    const bytes = input.layerBytes(line);
    if (bytes === undefined || bytes > SMALL_COPY_BYTES) {
      const size = bytes === undefined ? 'of unknown size' : `${kilobytes(bytes)}`;
      return `the ${keyword} at line ${line} (${size}) sits between the install and its use: after it, the install would rerun whenever those files change`;
    }
    into.copies.push({ line, bytes });
  }
  return undefined;
}

/** `NAME=value` as the variable was at the install, or `-u NAME` when it was not set there. */
function valueAtInstall(input: ToolchainInput, install: Run, name: string): string | undefined {
  const value = variablesAt(input.context, install)(name);
  if (value === undefined) {
    const inBase = input.facts.base.env.find((entry) => entry.startsWith(`${name}=`));
    return inBase === undefined ? `-u ${name}` : shellQuote(inBase);
  }
  if (value.includes('$')) return undefined;
  return shellQuote(`${name}=${value}`);
}

/** The install's working directory: the base image's, changed by each WORKDIR before it. */
function workdirAt(input: ToolchainInput, install: InstallRun): string | undefined {
  let directory = input.facts.base.workdir || '/';
  for (const instruction of install.instructions.slice(0, install.position)) {
    if (!(instruction instanceof Workdir)) continue;
    const raw = (instruction.getRawArgumentsContent() ?? '').trim();
    const expansion = expandVariables(
      raw,
      variablesAt(input.context, instruction),
      input.context.parsed.escapeChar,
    );
    if (expansion.unresolved.length > 0) return undefined;
    directory = expansion.value.startsWith('/')
      ? expansion.value
      : `${directory.replace(/\/$/, '')}/${expansion.value}`;
  }
  return directory;
}

/** The install's command as the RUN it moves into runs it: inline, or in its own shell. */
function movedCommand(
  input: ToolchainInput,
  install: InstallRun,
  carried: Carried,
): { text: string } | { reason: string } {
  const { parsed } = input.context;
  const run = install.run;
  const line = lineOf(run);
  if (isExecForm(run) || run.getHeredocs().length > 0) {
    return { reason: `the install at line ${line} is not a plain shell command to move` };
  }
  const command = runCommand(run, parsed.escapeChar);
  if (hasShellComment(command)) {
    return { reason: `the install at line ${line} contains a shell comment (#)` };
  }
  if (/(?:&&|\|\|?|&)\s*$/.test(command)) {
    return { reason: `the install at line ${line} ends with a dangling operator` };
  }
  const raw = argumentsText(input, run).replace(/\s*;\s*$/, '');
  const ownShell = CHANGES_SHELL.test(command) || carried.env.length > 0 || carried.cd;
  if (!ownShell) return { text: raw };
  const body = carried.cd === undefined ? raw : `cd ${shellQuote(carried.cd)} && ${raw}`;
  const env = carried.env.length > 0 ? `env ${carried.env.join(' ')} ` : '';
  const shell = shellWords(input, install).map(shellQuote).join(' ');
  return { text: `${env}${shell} ${singleQuoted(body)}` };
}

/** The shell RUN uses at the install: the SHELL in force (all its words), or `/bin/sh -c`. */
function shellWords(input: ToolchainInput, install: InstallRun): string[] {
  const shell = install.instructions
    .slice(0, install.position)
    .filter((instruction) => instruction.getKeyword().toUpperCase() === 'SHELL')
    .at(-1);
  if (shell === undefined) return ['/bin/sh', '-c'];
  const words = JSON.parse(shell.getRawArgumentsContent() ?? '[]') as string[];
  return words.length > 0 ? words : ['/bin/sh', '-c'];
}

function singleQuoted(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** A RUN's command as written (continuation lines included), without its flags. */
function argumentsText(input: ToolchainInput, run: Run): string {
  const { source } = input.context.parsed;
  const start = firstArgumentOffset(input, run);
  const end = offsetAt(source, run.getRange().end);
  return source.text.slice(start, end).trimEnd();
}

function firstArgumentOffset(input: ToolchainInput, run: Run): number {
  const first = run.getArguments()[0];
  if (first === undefined) throw new Error(`the RUN at line ${lineOf(run)} has no command`);
  return offsetAt(input.context.parsed.source, first.getRange().start);
}

/** The install's flags (`--mount=type=cache…`, `--network`) go to the RUN it moves into. */
function carriedFlags(
  input: ToolchainInput,
  install: Run,
  use: Run,
): { edits: TextEdit[] } | { reason: string } {
  const { source } = input.context.parsed;
  const text = (run: Run): string[] =>
    run.getFlags().map((flag) => {
      const range = flag.getRange();
      return source.text.slice(offsetAt(source, range.start), offsetAt(source, range.end));
    });
  const network = (run: Run): string | undefined =>
    run
      .getFlags()
      .find((flag) => flag.getName() === 'network')
      ?.getValue() ?? undefined;
  const [installNetwork, useNetwork] = [network(install), network(use)];
  if (installNetwork !== undefined && useNetwork !== undefined && installNetwork !== useNetwork) {
    return {
      reason: `the install at line ${lineOf(install)} and the RUN at line ${lineOf(use)} ask for different networks`,
    };
  }
  const present = new Set(text(use));
  const added = text(install).filter((flag) => !present.has(flag));
  if (added.length === 0) return { edits: [] };
  const keywordEnd = offsetAt(source, use.getInstructionRange().end);
  return { edits: [insertion(keywordEnd, ` ${added.join(' ')}`)] };
}

/** The install's lines become one comment saying where it went. */
function removal(input: ToolchainInput, install: Run, to: number): TextEdit {
  const { source } = input.context.parsed;
  const start = source.lineStarts[install.getRange().start.line] ?? 0;
  const end = nextLineStart(source, install.getRange().end.line);
  const eol = source.text.slice(start, end).endsWith('\n') ? source.eol : '';
  return replacement(
    source,
    start,
    end,
    `# slimpy: this install now runs in the RUN at line ${to} (original numbering), which removes its build-only packages at its end${eol}`,
  );
}

function carriedNotes(carried: Carried, from: number): string[] {
  const notes: string[] = [];
  if (carried.cd !== undefined || carried.env.length > 0) {
    const what = [
      ...(carried.cd !== undefined ? [`in \`${carried.cd}\``] : []),
      ...(carried.env.length > 0 ? [`with \`env ${carried.env.join(' ')}\``] : []),
    ].join(' and ');
    notes.push(
      `The moved install runs in its own shell ${what}, as it did at line ${from}: the WORKDIR, ENV and ARG instructions it now runs after would otherwise change it.`,
    );
  }
  for (const copy of carried.copies) {
    notes.push(
      `The install now runs after the COPY at line ${copy.line} (${kilobytes(copy.bytes)}): a change to those files reruns it.`,
    );
  }
  return notes;
}

function kilobytes(bytes: number): string {
  return `${Math.ceil(bytes / 1000)} kB`;
}
