/**
 * What each instruction sees, as BuildKit computes it: the ARGs and ENVs in scope and the WORKDIR.
 * - ARGs before the first FROM are global: only FROM lines see them, and a stage sees one only
 *   when it declares it again (`ARG NAME` with no value takes the global value);
 * - a `--build-arg` overrides an ARG's default, in the global scope and in every stage;
 * - BuildKit supplies the platform ARGs (TARGETARCH, BUILDPLATFORM, ...) the same way;
 * - an ENV value is expanded once, where it is defined, with what is in scope before that ENV
 *   instruction (`ENV A=1 B=$A` gives B the A from before the line);
 * - when an ARG and an ENV share a name, the later instruction's value is the one words see
 *   (measured on the engine: test/fixtures/expansion/recorded.json);
 * - a stage built FROM an earlier stage starts with that stage's variables, ARGs included, and
 *   its WORKDIR;
 * - a relative WORKDIR is joined to the one in force.
 * A variable whose value came from one slimpy could not resolve stays unresolved, so a path built
 * from it is reported rather than guessed.
 */
import { posix } from 'node:path';
import { Arg, Env, Workdir, type Instruction } from 'dockerfile-ast';
import { argDeclarations, type ParsedDockerfile } from './parse.js';
import type { ResolvedStage } from './stages.js';
import { processWord, type VariableLookup } from './variables.js';

/**
 * A variable's value as BuildKit computes it (undefined: not set), and whether it was computed
 * from a variable that had no value: the planner does not build a path on such a value.
 */
interface Variable {
  value: string | undefined;
  unresolved: boolean;
}

/** What one stage leaves for the stages built FROM it. */
interface Inherited {
  variables: Map<string, Variable>;
  workdir: string | undefined;
}

interface Scope {
  /** ARGs and ENVs together: the last instruction to set a name wins. */
  variables: Map<string, Variable>;
  /** Undefined when a FROM image's own WORKDIR is not known (slimpy does not read the image). */
  workdir: string | undefined;
}

export interface InstructionScope {
  /** Values as BuildKit substitutes them, empty parts and all. */
  buildKitLookup: VariableLookup;
  /** The same, except that a value computed from an unset variable counts as unset. */
  lookup: VariableLookup;
  /** The WORKDIR in force; undefined when it depends on an image slimpy does not read. */
  workdir: string | undefined;
}

export interface Scopes {
  at(instruction: Instruction): InstructionScope;
}

export interface ScopeOptions {
  buildArgs: Record<string, string>;
  /** Values BuildKit gives ARGs it defines itself (TARGETARCH, ...); empty for the classic builder. */
  automaticArgs: Record<string, string>;
  /** The global ARGs' values, as FROM lines see them. */
  globals: VariableLookup;
}

export function computeScopes(
  parsed: ParsedDockerfile,
  stages: readonly ResolvedStage[],
  options: ScopeOptions,
): Scopes {
  const byInstruction = new Map<Instruction, InstructionScope>();
  const inherited: Inherited[] = [];
  for (const stage of stages) {
    const parent = stage.baseStage === undefined ? undefined : inherited[stage.baseStage];
    const scope: Scope = {
      variables: new Map(parent?.variables ?? []),
      workdir: parent ? parent.workdir : stage.base.toLowerCase() === 'scratch' ? '/' : undefined,
    };
    for (const instruction of stage.instructions) {
      byInstruction.set(instruction, snapshot(scope));
      apply(instruction, scope, parsed.escapeChar, options);
    }
    inherited[stage.index] = { variables: scope.variables, workdir: scope.workdir };
  }
  return {
    at(instruction) {
      const scope = byInstruction.get(instruction);
      if (scope === undefined) throw new Error('instruction outside every stage');
      return scope;
    },
  };
}

function snapshot(scope: Scope): InstructionScope {
  const variables = new Map(scope.variables);
  const variable = (name: string): Variable | undefined => variables.get(name);
  return {
    buildKitLookup: (name) => variable(name)?.value,
    lookup: (name) => {
      const found = variable(name);
      return found?.unresolved ? undefined : found?.value;
    },
    workdir: scope.workdir,
  };
}

function apply(
  instruction: Instruction,
  scope: Scope,
  escapeChar: string,
  options: ScopeOptions,
): void {
  const { lookup, buildKitLookup } = snapshot(scope);
  const word = (text: string): Variable => ({
    value: processWord(text, buildKitLookup, escapeChar).value,
    unresolved: processWord(text, lookup, escapeChar).unresolved.length > 0,
  });
  if (instruction instanceof Arg) {
    for (const arg of argDeclarations(instruction)) {
      scope.variables.set(arg.name, argValue(arg, options, word));
    }
  } else if (instruction instanceof Env) {
    // Every value of one ENV line is expanded with the scope before the line.
    const values = instruction
      .getProperties()
      .map((property) => [property.getName(), word(property.getUnescapedValue() ?? '')] as const);
    for (const [name, value] of values) scope.variables.set(name, value);
  } else if (instruction instanceof Workdir) {
    const path = word(instruction.getRawArgumentsContent()?.trim() ?? '');
    scope.workdir = joinWorkdir(scope.workdir, path);
  }
}

function joinWorkdir(current: string | undefined, path: Variable): string | undefined {
  if (path.unresolved || path.value === undefined) return undefined;
  if (path.value.startsWith('/')) return posix.normalize(path.value);
  return current === undefined ? undefined : posix.join(current, path.value);
}

function argValue(
  arg: { name: string; value: string | undefined },
  options: ScopeOptions,
  word: (text: string) => Variable,
): Variable {
  if (Object.hasOwn(options.buildArgs, arg.name)) {
    return { value: options.buildArgs[arg.name], unresolved: false };
  }
  if (arg.value !== undefined) return word(arg.value);
  return {
    value: options.globals(arg.name) ?? options.automaticArgs[arg.name],
    unresolved: false,
  };
}
