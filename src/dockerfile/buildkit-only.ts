/**
 * Which parts of a Dockerfile only BuildKit understands. Where slimpy has to use the classic
 * builder (the containerd image store before Engine 27.5, or an Engine API older than 1.39), a
 * Dockerfile using them would fail mid-build with a parse error far from the cause; finding them
 * first lets slimpy say why before building anything.
 */
import { DockerfileParser, type Instruction } from 'dockerfile-ast';

export interface BuildKitOnlyUse {
  /** 1-based line of the instruction. */
  line: number;
  /** What it uses, as a user would write it: `RUN --mount`, `COPY --link`, `RUN heredoc`. */
  feature: string;
}

/** Flags each instruction accepts only under BuildKit (the classic builder knows the others). */
const BUILDKIT_ONLY_FLAGS: Record<string, readonly string[]> = {
  RUN: ['mount', 'network', 'security'],
  COPY: ['link', 'chmod', 'parents', 'exclude'],
  ADD: ['link', 'chmod', 'checksum', 'keep-git-dir', 'parents', 'exclude'],
};

/** `<<EOF`, `<<-EOF`, `<<"EOF"`: the start of a here-document in RUN, COPY or ADD. */
const HEREDOC_START = /^<<-?(["']?)[A-Za-z_][\w.-]*\1/;

export function buildKitOnlyUses(dockerfileText: string): BuildKitOnlyUse[] {
  const uses: BuildKitOnlyUse[] = [];
  for (const instruction of DockerfileParser.parse(dockerfileText).getInstructions()) {
    const keyword = instruction.getKeyword();
    const onlyFlags = BUILDKIT_ONLY_FLAGS[keyword];
    if (!onlyFlags) continue;
    const line = instruction.getRange().start.line + 1;
    for (const flag of flagNames(instruction)) {
      if (onlyFlags.includes(flag)) uses.push({ line, feature: `${keyword} --${flag}` });
    }
    if (instruction.getArguments().some((argument) => HEREDOC_START.test(argument.getValue()))) {
      uses.push({ line, feature: `${keyword} heredoc` });
    }
  }
  return uses;
}

function flagNames(instruction: Instruction): string[] {
  const withFlags = instruction as Instruction & { getFlags?: () => Array<{ getName(): string }> };
  return withFlags.getFlags?.().map((flag) => flag.getName().toLowerCase()) ?? [];
}

/** `COPY --link at line 3, RUN heredoc at line 7`. */
export function describeUses(uses: readonly BuildKitOnlyUse[]): string {
  return uses.map((use) => `${use.feature} at line ${use.line}`).join(', ');
}
