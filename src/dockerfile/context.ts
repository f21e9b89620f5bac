/** What every planning step needs to know about the Dockerfile and the options, computed once. */
import { Shell, User, type Instruction } from 'dockerfile-ast';
import type { ParsedDockerfile } from './parse.js';
import type { Scopes } from './scope.js';
import type { ResolvedStage } from './stages.js';
import type { VariableLookup } from './variables.js';

export interface PlanContext {
  parsed: ParsedDockerfile;
  stages: ResolvedStage[];
  /** The stage being built. */
  finalIndex: number;
  /** The final stage and the stages it builds FROM, root first: all of their layers ship. */
  chain: number[];
  buildArgs: Record<string, string>;
  scriptPath: string;
  scriptArgs: string[];
  /** True when the prune script comes in through RUN --mount; false when a COPY brings it. */
  mounts: boolean;
  /** The variables and WORKDIR each instruction sees. */
  scopes: Scopes;
}

export function lineOf(instruction: Instruction): number {
  return instruction.getRange().start.line + 1;
}

/** `line 3`, `lines 3 and 5`, `lines 3, 5 and 8`. */
export function lineList(lines: readonly number[]): string {
  const unique = [...new Set(lines)];
  const last = unique.at(-1);
  if (unique.length <= 1) return `line ${last ?? '?'}`;
  return `lines ${unique.slice(0, -1).join(', ')} and ${last}`;
}

/** How the report names a stage: by its name, or by its index when it has none. */
export function stageLabel(stage: { index: number; name: string | undefined }): string {
  return stage.name === undefined ? `stage ${stage.index}` : `stage \`${stage.name}\``;
}

/** The same, to open a sentence with. */
export function capitalStageLabel(stage: { index: number; name: string | undefined }): string {
  return `S${stageLabel(stage).slice(1)}`;
}

export function stageOf(context: PlanContext, index: number): ResolvedStage {
  const stage = context.stages[index];
  if (stage === undefined) throw new Error(`no stage ${index} in the Dockerfile`);
  return stage;
}

/** The instructions of the given stages, in order: what a stage inherits from the stages it builds FROM. */
export function chainInstructions(context: PlanContext, chain: readonly number[]): Instruction[] {
  return chain.flatMap((index) => stageOf(context, index).instructions);
}

/** The ARGs and ENVs in scope at an instruction, as BuildKit computes them (scope.ts). */
export function variablesAt(context: PlanContext, instruction: Instruction): VariableLookup {
  return context.scopes.at(instruction).lookup;
}

/** The WORKDIR in force at an instruction; undefined when it comes from an image slimpy does not read. */
export function workdirAt(context: PlanContext, instruction: Instruction): string | undefined {
  return context.scopes.at(instruction).workdir;
}

/** The USER the instructions leave in force, as written; undefined when none switches it. */
export function effectiveUser(instructions: readonly Instruction[]): User | undefined {
  return instructions.filter((instruction) => instruction instanceof User).at(-1);
}

export function userValue(user: User): string {
  return (user.getRawArgumentsContent() ?? '').trim();
}

export function isRootUser(user: string): boolean {
  return /^(?:root|0)(?::(?:root|0))?$/.test(user);
}

/** The shell RUN uses after these instructions, when a SHELL instruction changed it. */
export function shellInForce(instructions: readonly Instruction[]): string | undefined {
  const shell = instructions.filter((instruction) => instruction instanceof Shell).at(-1);
  return shell?.getJSONStrings()[0]?.getJSONValue();
}

/** The prune script is POSIX sh, and so is the `&&` that appends it. */
export function isPosixShell(shell: string | undefined): boolean {
  return shell === undefined || /(?:^|\/)(?:sh|bash|ash|dash|zsh|ksh)$/.test(shell);
}
