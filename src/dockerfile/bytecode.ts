/**
 * Bytecode compiled on purpose: `UV_COMPILE_BYTECODE=1`, `uv … --compile-bytecode`,
 * `pip install --compile`, `python -m compileall`. The author chose start time over bytes (uv's
 * Docker guide recommends it), so the pycache rule must not silently undo that choice. Only the
 * stages whose files can reach the built image count.
 */
import { Arg, Env, Run, type Instruction } from 'dockerfile-ast';
import { lineOf, type PlanContext } from './context.js';
import { runCommand } from './parse.js';
import { stagesReachingTarget } from './references.js';

export interface BytecodeChoice {
  /** 1-based line of the instruction that asks for it. */
  line: number;
  /** What it says, e.g. `UV_COMPILE_BYTECODE=1` or `pip install --compile`. */
  evidence: string;
}

const TRUE = /^(?:1|true|yes|on|y|t)$/i;

/** Commands that compile bytecode, each with the words the report quotes. */
const COMPILING_COMMANDS: ReadonlyArray<{ pattern: RegExp; evidence: string }> = [
  { pattern: /\bUV_COMPILE_BYTECODE=["']?(?:1|true|yes|on)\b/i, evidence: 'UV_COMPILE_BYTECODE=1' },
  {
    pattern: /\buv\s[^;&|\n]*?\s--compile(?:-bytecode)?(?![\w-])/,
    evidence: 'uv --compile-bytecode',
  },
  {
    pattern: /\bpip(?:3(?:\.\d+)?)?\s[^;&|\n]*?\binstall\b[^;&|\n]*?\s--compile(?![\w-])/,
    evidence: 'pip install --compile',
  },
  {
    pattern: /\bpython(?:3(?:\.\d+)?)?\s+(?:-\S+\s+)*-m\s*compileall\b/,
    evidence: 'python -m compileall',
  },
];

/** The first instruction, in the stages whose files reach the built image, that asks for it. */
export function compiledBytecode(context: PlanContext): BytecodeChoice | undefined {
  const reached = stagesReachingTarget(context);
  for (const stage of context.stages) {
    if (!reached.has(stage.index)) continue;
    for (const instruction of stage.instructions) {
      const evidence = compilingEvidence(instruction, context.parsed.escapeChar);
      if (evidence !== undefined) return { line: lineOf(instruction), evidence };
    }
  }
  return undefined;
}

function compilingEvidence(instruction: Instruction, escapeChar: string): string | undefined {
  if (instruction instanceof Env) {
    const set = instruction
      .getProperties()
      .some((p) => p.getName() === 'UV_COMPILE_BYTECODE' && TRUE.test(p.getValue() ?? ''));
    return set ? 'UV_COMPILE_BYTECODE=1' : undefined;
  }
  if (instruction instanceof Arg) {
    const property = instruction.getProperty();
    const set =
      property?.getName() === 'UV_COMPILE_BYTECODE' && TRUE.test(property.getValue() ?? '');
    return set ? 'UV_COMPILE_BYTECODE=1' : undefined;
  }
  if (instruction instanceof Run) {
    const command = runCommand(instruction, escapeChar);
    return COMPILING_COMMANDS.find(({ pattern }) => pattern.test(command))?.evidence;
  }
  return undefined;
}
