/**
 * The stage graph: what each FROM resolves to, which stage is the build target, and which stages
 * a `--from=` value names. Docker's rules, kept here in one place:
 * - a FROM sees only the ARGs declared before the first FROM (build args override their defaults);
 * - stage names compare case-insensitively, and a FROM can name an earlier stage but never index one;
 * - `--from=` takes a stage name, a stage index, or else an image reference;
 * - `--target` takes a stage name only.
 */
import {
  DockerfileError,
  parseDockerfile,
  type ParsedDockerfile,
  type ParsedStage,
} from './parse.js';
import { hostPlatform, platformArgs } from './platform.js';
import { expandVariables, processWord, type VariableLookup } from './variables.js';

export interface ResolvedStage extends ParsedStage {
  /** The FROM image with variables substituted, or the name of the stage it builds on. */
  base: string;
  /** Index of the earlier stage the FROM names, if it names one. */
  baseStage: number | undefined;
}

export interface StageSummary {
  index: number;
  name?: string;
  /** The resolved image, or the stage name when the stage builds FROM an earlier stage. */
  from: string;
  fromStage?: number;
  line: number;
}

export function listStages(dockerfile: string, buildArgs?: Record<string, string>): StageSummary[] {
  return resolveStages(parseDockerfile(dockerfile), buildArgs).map(summarizeStage);
}

/** The image the target stage ultimately builds FROM (following FROM <stage> chains); undefined for scratch. */
export function finalBaseImage(
  dockerfile: string,
  options: { target?: string; buildArgs?: Record<string, string> },
): string | undefined {
  const stages = resolveStages(parseDockerfile(dockerfile), options.buildArgs);
  const chain = stageChain(stages, findTargetStage(stages, options.target));
  const root = stages[chain[0] ?? 0];
  if (root === undefined || root.base.toLowerCase() === 'scratch') return undefined;
  return root.base;
}

function summarizeStage(stage: ResolvedStage): StageSummary {
  const summary: StageSummary = { index: stage.index, from: stage.base, line: stage.line };
  if (stage.name !== undefined) summary.name = stage.name;
  if (stage.baseStage !== undefined) summary.fromStage = stage.baseStage;
  return summary;
}

export function resolveStages(
  parsed: ParsedDockerfile,
  buildArgs: Record<string, string> = {},
): ResolvedStage[] {
  const lookup = globalArgLookup(parsed, buildArgs);
  const resolved: ResolvedStage[] = [];
  for (const stage of parsed.stages) {
    const base = expandVariables(stage.from.getImage() ?? '', lookup, parsed.escapeChar).value;
    if (base === '') {
      throw new DockerfileError(
        `FROM ${stage.from.getImage() ?? ''} resolves to an empty image name; pass the build arg it needs`,
        stage.line,
      );
    }
    const baseStage = findStageByName(resolved, base);
    resolved.push({ ...stage, base, baseStage });
  }
  return resolved;
}

/**
 * Only ARGs declared before the first FROM are visible to FROM; a build arg overrides a default,
 * and a default may use the ARGs declared before it (`ARG RUNTIME=${PY}`). BuildKit's platform
 * ARGs (BUILDPLATFORM, TARGETARCH, ...) are global too.
 */
export function globalArgLookup(
  parsed: ParsedDockerfile,
  buildArgs: Record<string, string>,
  automaticArgs: Record<string, string> = platformArgs(hostPlatform()),
): VariableLookup {
  const values = new Map<string, string | undefined>(Object.entries(automaticArgs));
  const lookup: VariableLookup = (name) => values.get(name);
  for (const arg of parsed.globalArgs) {
    const value = Object.hasOwn(buildArgs, arg.name)
      ? buildArgs[arg.name]
      : arg.value === undefined
        ? undefined
        : processWord(arg.value, lookup, parsed.escapeChar).value;
    values.set(arg.name, value);
  }
  return lookup;
}

function findStageByName(stages: readonly ParsedStage[], name: string): number | undefined {
  const wanted = name.toLowerCase();
  return stages.find((stage) => stage.name?.toLowerCase() === wanted)?.index;
}

/** The index of the stage `docker build --target` builds: the named one, else the last. */
export function findTargetStage(
  stages: readonly ParsedStage[],
  target: string | undefined,
): number {
  if (target === undefined || target === '') return stages.length - 1;
  const index = findStageByName(stages, target);
  if (index === undefined) {
    const names = stages.flatMap((stage) => (stage.name === undefined ? [] : [stage.name]));
    const known =
      names.length === 0 ? 'this Dockerfile names no stages' : `stages: ${names.join(', ')}`;
    throw new DockerfileError(
      `build target "${target}" is not a stage in this Dockerfile (${known}); pass one of those names, or no target to build the last stage`,
    );
  }
  return index;
}

/** The stages whose layers make up the target's image: the target and the stages it builds FROM, root first. */
export function stageChain(stages: readonly ResolvedStage[], index: number): number[] {
  const chain: number[] = [];
  let current: number | undefined = index;
  while (current !== undefined) {
    chain.unshift(current);
    current = stages[current]?.baseStage;
  }
  return chain;
}

export type StageReference =
  | { kind: 'stage'; index: number }
  | { kind: 'image'; image: string }
  | { kind: 'unresolved'; value: string };

/** What a `--from=` value names, as Docker reads it: a stage name, a stage index, or else an image. */
export function resolveStageReference(
  value: string,
  stages: readonly ParsedStage[],
  lookup: VariableLookup,
  escapeChar: string,
): StageReference {
  const expansion = expandVariables(value, lookup, escapeChar);
  if (expansion.unresolved.length > 0) return { kind: 'unresolved', value };
  const expanded = expansion.value;
  const byName = findStageByName(stages, expanded);
  if (byName !== undefined) return { kind: 'stage', index: byName };
  if (/^\d+$/.test(expanded) && Number(expanded) < stages.length) {
    return { kind: 'stage', index: Number(expanded) };
  }
  return { kind: 'image', image: expanded };
}
