/**
 * `earlier-layers`: when a Python environment is created by one RUN and filled by a later one
 * (`RUN python -m venv /app/.venv` then `RUN /app/.venv/bin/pip install …`), the prune appended
 * to the installing RUN deletes what the creating RUN made (bytecode, pip) in a later layer, where
 * the bytes still ship. This rule prunes the environment in the RUN that created it, too. pip,
 * setuptools and wheel stay there when a later RUN installs with them; the report says so.
 */
import { Run, type Instruction } from 'dockerfile-ast';
import type { EnvironmentFact } from '../../model/fixes.js';
import {
  chainInstructions,
  isPosixShell,
  lineOf,
  shellInForce,
  type PlanContext,
} from '../context.js';
import { narrowedArgs } from '../invocation.js';
import { runCommand } from '../parse.js';
import { createsPythonEnvironment, installsPythonPackages } from '../python.js';
import { pruneInvocation, scriptDelivery } from '../same-run.js';
import { emptyFixPlan, layerAt, type FixInput, type FixRulePlan } from './rule.js';

export function planEarlierLayers(input: FixInput): FixRulePlan {
  const plan = emptyFixPlan();
  const { context } = input;
  const instructions = chainInstructions(context, context.chain);
  instructions.forEach((instruction, position) => {
    if (!(instruction instanceof Run) || !createsOnly(context, instruction)) return;
    const environments = (layerAt(input.facts, lineOf(instruction))?.environments ?? []).filter(
      (environment) => environment.venv,
    );
    if (environments.length === 0) return;
    const before = instructions.slice(0, position);
    const later = instructions.slice(position + 1).find((next) => installs(context, next));
    planRun(context, { run: instruction, before, later, environments }, plan);
  });
  return plan;
}

interface Creation {
  run: Run;
  before: readonly Instruction[];
  /** A later RUN that installs packages: it needs pip and setuptools where they are. */
  later: Instruction | undefined;
  environments: readonly EnvironmentFact[];
}

function planRun(context: PlanContext, creation: Creation, plan: FixRulePlan): void {
  const line = lineOf(creation.run);
  if (!isPosixShell(shellInForce(creation.before))) {
    plan.skipped.push(
      `The RUN at line ${line} creates a Python environment that a later RUN fills, but a SHELL instruction replaced the POSIX shell the prune needs.`,
    );
    return;
  }
  const roots = creation.environments.map((environment) => venvRoot(environment.sitePackages));
  // A new environment has no ELF files to strip; installing binutils for nothing costs a download.
  const args = narrowedArgs(context.scriptArgs, {
    strip: false,
    // `unused` would take pip too: the later RUN installs with it.
    without: creation.later ? ['packaging', 'unused'] : [],
  });
  const kept = creation.later
    ? ` pip, setuptools and wheel stay there: the RUN at line ${lineOf(creation.later)} installs with them, so deleting them later would only hide them (create the environment and install into it in one RUN to have them removed).`
    : '';
  plan.appends.push({
    run: creation.run,
    command: pruneInvocation(context, args, roots),
    order: 'prune',
    note: `Pruned ${roots.map((root) => `\`${root}\``).join(', ')} in the RUN at line ${line}, which creates it: files deleted by a later RUN would still ship in this one's layer.${kept}`,
    what: 'creates a Python environment that a later RUN fills',
    with: [scriptDelivery(context, creation.run, creation.before)],
  });
}

/** `python -m venv`, `virtualenv`, `uv venv`: creates an environment, installs nothing into it. */
function createsOnly(context: PlanContext, run: Run): boolean {
  const command = runCommand(run, context.parsed.escapeChar);
  return createsPythonEnvironment(command) && !installsPythonPackages(command);
}

function installs(context: PlanContext, instruction: Instruction): boolean {
  return (
    instruction instanceof Run &&
    installsPythonPackages(runCommand(instruction, context.parsed.escapeChar))
  );
}

/** `/app/.venv/lib/python3.11/site-packages` → `/app/.venv`. */
function venvRoot(sitePackages: string): string {
  return sitePackages.split('/').slice(0, -3).join('/') || '/';
}
