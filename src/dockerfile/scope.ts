/**
 * What each instruction sees, as BuildKit computes it: the ARGs and ENVs in scope and the WORKDIR.
 * - ARGs before the first FROM are global: only FROM lines see them, and a stage sees one only
 *   when it declares it again (`ARG NAME` with no value takes the global value);
 * - a `--build-arg` overrides an ARG's default, in the global scope and in every stage;
 * - BuildKit supplies the platform ARGs (TARGETARCH, BUILDPLATFORM, ...) the same way;
 * - an ENV value is expanded once, where it is defined, with what is in scope before that ENV
 *   instruction (`ENV A=1 B=$A` gives B the A from before the line); ENV wins over an ARG of the
 *   same name; ENV and WORKDIR carry over to a stage built FROM this one, ARGs do not;
 * - a relative WORKDIR is joined to the one in force.
 * A variable whose value came from one slimpy could not resolve stays unresolved, so a path built
 * from it is reported rather than guessed.
 */
import { posix } from 'node:path';
import { Arg, Env, Workdir, type Instruction } from 'dockerfile-ast';
import { argDeclarations, type ParsedDockerfile } from './parse.js';
import type { ResolvedStage } from './stages.js';
import { processWord, type VariableLookup } from './variables.js';

/** What one stage leaves for the stages built FROM it. */
interface Inherited {
  env: Map<string, string | undefined>;
  workdir: string | undefined;
}

interface Scope {
  env: Map<string, string | undefined>;
  args: Map<string, string | undefined>;
  /** Undefined when a FROM image's own WORKDIR is not known (slimpy does not read the image). */
  workdir: string | undefined;
}

export interface InstructionScope {
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
      env: new Map(parent?.env ?? []),
      args: new Map(),
      workdir: parent ? parent.workdir : stage.base.toLowerCase() === 'scratch' ? '/' : undefined,
    };
    for (const instruction of stage.instructions) {
      byInstruction.set(instruction, snapshot(scope));
      apply(instruction, scope, parsed.escapeChar, options);
    }
    inherited[stage.index] = { env: scope.env, workdir: scope.workdir };
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
  const env = new Map(scope.env);
  const args = new Map(scope.args);
  return {
    lookup: (name) => (env.has(name) ? env.get(name) : args.get(name)),
    workdir: scope.workdir,
  };
}

function apply(
  instruction: Instruction,
  scope: Scope,
  escapeChar: string,
  options: ScopeOptions,
): void {
  const lookup = snapshot(scope).lookup;
  const word = (text: string): string | undefined => {
    const expansion = processWord(text, lookup, escapeChar);
    return expansion.unresolved.length > 0 ? undefined : expansion.value;
  };
  if (instruction instanceof Arg) {
    for (const arg of argDeclarations(instruction)) {
      scope.args.set(arg.name, argValue(arg, options, word));
    }
  } else if (instruction instanceof Env) {
    // Every value of one ENV line is expanded with the scope before the line.
    const values = instruction
      .getProperties()
      .map((property) => [property.getName(), word(property.getUnescapedValue() ?? '')] as const);
    for (const [name, value] of values) scope.env.set(name, value);
  } else if (instruction instanceof Workdir) {
    const path = word(instruction.getRawArgumentsContent()?.trim() ?? '');
    scope.workdir =
      path === undefined
        ? undefined
        : path.startsWith('/')
          ? posix.normalize(path)
          : scope.workdir === undefined
            ? undefined
            : posix.join(scope.workdir, path);
  }
}

function argValue(
  arg: { name: string; value: string | undefined },
  options: ScopeOptions,
  word: (text: string) => string | undefined,
): string | undefined {
  if (Object.hasOwn(options.buildArgs, arg.name)) return options.buildArgs[arg.name];
  if (arg.value !== undefined) return word(arg.value);
  return options.globals(arg.name) ?? options.automaticArgs[arg.name];
}

/** The ARGs BuildKit defines for a build on `platform` (`linux/amd64`, `linux/arm64/v8`). */
export function platformArgs(platform: string): Record<string, string> {
  const [os = 'linux', arch = 'amd64', variant = ''] = platform.split('/');
  const values: Record<string, string> = {};
  for (const side of ['TARGET', 'BUILD']) {
    values[`${side}PLATFORM`] = platform;
    values[`${side}OS`] = os;
    values[`${side}ARCH`] = arch;
    values[`${side}VARIANT`] = variant;
  }
  return values;
}

/** The platform of the machine slimpy runs on, which is the one a local engine builds for. */
export function hostPlatform(): string {
  const arch = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' }[
    process.arch as string
  ];
  return `linux/${arch ?? process.arch}`;
}
