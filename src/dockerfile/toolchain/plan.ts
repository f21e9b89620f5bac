/**
 * The `toolchain` rule: build-only OS packages (compilers, headers, build tools) out of the stage
 * being shipped. Which packages are build-only and which the shipped files need at runtime is
 * measured (ToolchainFacts); this chooses how to take them out, per stage, and says why:
 * the same lifetime (same-lifetime.ts) when the install and its one use can share a RUN, else a
 * builder stage (builder-stage.ts). Pure: the Dockerfile and the facts in, edits and words out.
 */
import { Run } from 'dockerfile-ast';
import type { RuntimePackage, ToolchainFacts } from '../../model/toolchain.js';
import { lineList, lineOf, stageOf } from '../context.js';
import { installTool } from '../package-commands.js';
import { runCommand } from '../parse.js';
import { planBuilderStage } from './builder-stage.js';
import { planSameLifetime } from './same-lifetime.js';
import type { InstallRun, ToolchainInput, ToolchainRewrite } from './shape.js';

export type { ToolchainInput, ToolchainRewrite } from './shape.js';

export interface ToolchainPlan {
  /** The rewrite chosen; undefined when the toolchain stays. */
  rewrite?: ToolchainRewrite;
  notes: string[];
  /** Why the toolchain stays, when the findings saw one. */
  skipped: string[];
}

/** Names listed in one note before "and N more". */
const LISTED = 12;

export function planToolchainRewrite(input: ToolchainInput): ToolchainPlan {
  const installs = installRuns(input);
  if (installs.length === 0) {
    return input.toolchainLines.length === 0
      ? { notes: [], skipped: [] }
      : {
          notes: [],
          skipped: [
            stays(
              input,
              'no RUN of the shipped stage installs it with a package manager slimpy knows',
            ),
          ],
        };
  }
  const lines = installs.map((install) => lineOf(install.run));
  if (input.facts.buildOnly.length === 0) {
    return {
      notes: [],
      skipped: [
        stays(input, 'every toolchain package it installed is needed at runtime', lines),
        ...keptNotes(input.facts.runtime),
      ],
    };
  }
  const same =
    installs.length === 1 && installs[0] !== undefined
      ? planSameLifetime(input, installs[0])
      : { reason: `build-only packages are installed at ${lineList(lines)}` };
  const rewrite = 'reason' in same ? planBuilderStage(input, installs, same.reason) : same;
  if ('reason' in rewrite) {
    const why = 'reason' in same ? `${same.reason}, and ${rewrite.reason}` : rewrite.reason;
    return { notes: [], skipped: [stays(input, why, lines)] };
  }
  return {
    rewrite,
    notes: [...rewrite.notes, ...packageNotes(input.facts, rewrite), ...missingNotes(input.facts)],
    skipped: [],
  };
}

/**
 * RUNs of the shipped stage that install OS packages: those whose layer the findings name, and
 * those that name a build-only package.
 */
function installRuns(input: ToolchainInput): InstallRun[] {
  const { context, facts } = input;
  const instructions = stageOf(context, context.finalIndex).instructions;
  const buildOnly = new Set(facts.buildOnly);
  const found: InstallRun[] = [];
  instructions.forEach((instruction, position) => {
    if (!(instruction instanceof Run)) return;
    const command = runCommand(instruction, context.parsed.escapeChar);
    const tool = installTool(command);
    if (tool === undefined) return;
    const named = command.split(/[\s;&|]+/).some((word) => buildOnly.has(word.split('=')[0] ?? ''));
    if (named || input.toolchainLines.includes(lineOf(instruction))) {
      found.push({ run: instruction, tool, instructions, position });
    }
  });
  return found;
}

function stays(input: ToolchainInput, why: string, lines?: readonly number[]): string {
  const where = lines ?? input.toolchainLines;
  const at = where.length > 0 ? ` installed at ${lineList(where)}` : '';
  return `The build toolchain${at} stays in the image: ${why}.`;
}

function packageNotes(facts: ToolchainFacts, rewrite: ToolchainRewrite): string[] {
  const leaving =
    rewrite.way === 'same-lifetime' && facts.leaving !== undefined
      ? facts.leaving
      : facts.stagePackages.filter((name) => !kept(facts).has(name));
  const notes = [
    `Packages that leave (${leaving.length}${rewrite.way === 'same-lifetime' && facts.leaving !== undefined ? ', as apt-get simulated it' : ''}): ${listed(leaving)}.`,
    ...keptNotes(facts.runtime),
  ];
  return notes;
}

/** What a builder stage's final stage gets back: asked-for packages that are not build-only, and runtime ones. */
function kept(facts: ToolchainFacts): Set<string> {
  const build = new Set(facts.buildOnly);
  return new Set([
    ...facts.requested.filter((name) => !build.has(name)),
    ...facts.runtime.map((entry) => entry.name),
  ]);
}

/** `Kept libpq5: needed by psycopg2/_psycopg…so (libpq.so.5)`. */
function keptNotes(runtime: readonly RuntimePackage[]): string[] {
  return runtime.map((entry) => {
    const needs = entry.needs
      .map((need) => {
        const more = need.count > 1 ? ` and ${need.count - 1} more` : '';
        return `${need.by.map(shortPath).slice(0, 1).join('')}${more} (${need.soname})`;
      })
      .join('; ');
    return `Kept ${entry.name}: needed by ${needs}.`;
  });
}

function missingNotes(facts: ToolchainFacts): string[] {
  return facts.missing.map(
    (entry) =>
      `${entry.soname}, needed by ${entry.by.map(shortPath).join(', ')}, is not found in the image by the loader; slimpy left that as it is.`,
  );
}

/** `/venv/lib/python3.11/site-packages/psycopg2/_psycopg.cpython-311-x86_64-linux-gnu.so` → `psycopg2/_psycopg…so`. */
export function shortPath(path: string): string {
  const parts = path.split('/').filter(Boolean);
  const name = parts.at(-1) ?? path;
  const parent = parts.at(-2);
  const dots = name.split('.');
  const short = dots.length > 2 && dots.at(-1) === 'so' ? `${dots[0]}…so` : name;
  return parent === undefined ? short : `${parent}/${short}`;
}

function listed(names: readonly string[]): string {
  const shown = names.slice(0, LISTED).join(', ');
  return names.length > LISTED ? `${shown} and ${names.length - LISTED} more` : shown || 'none';
}
