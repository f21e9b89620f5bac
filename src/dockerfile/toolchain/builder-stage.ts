/**
 * Builder stage: the shipped stage becomes a builder, unchanged (so its build cache is reused and
 * every RUN still has the toolchain), and a new final stage FROM the same base installs only the
 * runtime packages, copies what the stage added that is not a package's, not toolchain and not a
 * cache (measured: ToolchainFacts.shipped), and repeats the stage's ENV, ARG, WORKDIR, USER,
 * LABEL, EXPOSE, CMD, ENTRYPOINT and the other settings, in their order.
 */
import { Add, Copy, From, Run, type Instruction } from 'dockerfile-ast';
import type { ShippedPath } from '../../model/toolchain.js';
import { isRootUser, lineOf, stageLabel, stageOf, type PlanContext } from '../context.js';
import { runtimeInstallCommand, type InstallTool } from '../package-commands.js';
import { nextLineStart, offsetAt } from '../parse.js';
import { indexReferences, referencesTo } from '../references.js';
import { insertion, replacement, type TextEdit } from '../rewrite.js';
import type { InstallRun, RewriteAttempt, ToolchainInput } from './shape.js';

/** Package-manager configuration (sources, keys): copied before the runtime install needs it. */
const PACKAGE_CONFIG =
  /^\/(?:etc\/apt|usr\/share\/keyrings|etc\/apk|etc\/yum\.repos\.d|etc\/dnf|etc\/pki\/rpm-gpg)(?:\/|$)/;

export function planBuilderStage(
  input: ToolchainInput,
  installs: readonly InstallRun[],
  because: string,
): RewriteAttempt {
  const { context } = input;
  const stage = stageOf(context, context.finalIndex);
  if (stage.baseStage !== undefined) {
    return { reason: `${stageLabel(stage)} builds FROM another stage, not from an image` };
  }
  if (stage.base.toLowerCase() === 'scratch')
    return { reason: `${stageLabel(stage)} is FROM scratch` };
  const names = stageNames(context);
  if ('reason' in names) return names;
  const tool = installs[0]?.tool;
  if (tool === undefined) return { reason: 'no install of OS packages was found' };
  const packages = runtimeInstall(input);
  const shipped = input.facts.shipped;
  const text = finalStageText(context, {
    names,
    tool,
    packages,
    cacheMounts: cacheMounts(input, installs),
    shipped,
    ldconfig: input.facts.ldconfig,
    baseUser: input.facts.base.user,
  });
  const installLines = installs.map((install) => lineOf(install.run));
  return {
    way: 'builder-stage',
    edits: [...names.edits, insertion(stageEnd(context), text)],
    notes: [
      `Made ${stageLabel(stage)} (line ${stage.line}) a builder stage \`${names.builder}\` and added a final stage FROM the same base that ${
        packages.length > 0
          ? `installs only ${packages.map((name) => `\`${name}\``).join(', ')}`
          : 'installs no packages'
      } and copies ${describePaths(shipped)} from it, because ${because}.`,
      ...mixedNotes(shipped),
    ],
    lines: installLines,
  };
}

interface StageNames {
  /** What the builder is called (the stage's name, changed, or a new one). */
  builder: string;
  /** The new final stage's name, when the stage had one (a `--target` may name it). */
  final: string | undefined;
  edits: TextEdit[];
}

/**
 * An unnamed stage is named `slimpy-build` for the final stage to copy from; a named one hands its
 * name to the new final stage (so `--target` builds that) and becomes `<name>-build`.
 */
function stageNames(context: PlanContext): StageNames | { reason: string } {
  const stage = stageOf(context, context.finalIndex);
  const references = referencesTo(context, context.finalIndex);
  if (references.length > 0) {
    return {
      reason: `other instructions name ${stageLabel(stage)} (line ${references.join(', ')}), and they would then get the final stage instead`,
    };
  }
  const shifted = indexReferences(context).filter((reference) => reference.index > stage.index);
  if (shifted.length > 0) {
    return {
      reason: `a stage index after it is named by number (line ${shifted.map((r) => r.line).join(', ')}), and the new stage would shift it`,
    };
  }
  const taken = new Set(context.stages.flatMap((s) => s.name?.toLowerCase() ?? []));
  const { source } = context.parsed;
  const range = stage.from.getBuildStageRange();
  if (stage.name === undefined || range === null) {
    const builder = unique('slimpy-build', taken);
    const image = stage.from.getImageRange() ?? stage.from.getRange();
    return {
      builder,
      final: undefined,
      edits: [insertion(offsetAt(source, image.end), ` AS ${builder}`)],
    };
  }
  const builder = unique(`${stage.name}-build`, taken);
  const start = offsetAt(source, range.start);
  return {
    builder,
    final: stage.name,
    edits: [replacement(source, start, offsetAt(source, range.end), builder)],
  };
}

function unique(base: string, taken: ReadonlySet<string>): string {
  let name = base;
  for (let n = 2; taken.has(name.toLowerCase()); n += 1) name = `${base}-${n}`;
  return name;
}

/** What the stage asked for by name and is not build-only, then what runtime needs keep. */
function runtimeInstall(input: ToolchainInput): string[] {
  const { facts } = input;
  const build = new Set(facts.buildOnly);
  const asked = facts.requested.filter((name) => !build.has(name) && !name.startsWith('.'));
  const needed = facts.runtime.map((entry) => entry.name).filter((name) => !asked.includes(name));
  return [...asked, ...needed];
}

interface FinalStage {
  names: StageNames;
  tool: InstallTool;
  packages: readonly string[];
  /** The install's `--mount=type=cache` flags, as written: the runtime install reuses them. */
  cacheMounts: string[];
  shipped: readonly ShippedPath[];
  ldconfig: boolean;
  baseUser: string;
}

function finalStageText(context: PlanContext, shape: FinalStage): string {
  const { eol } = context.parsed.source;
  const stage = stageOf(context, context.finalIndex);
  const configs = shape.shipped.filter((path) => PACKAGE_CONFIG.test(path.path));
  const others = shape.shipped.filter((path) => !PACKAGE_CONFIG.test(path.path));
  const fixups = fixupCommands(shape.shipped, shape.ldconfig);
  const asRoot =
    !isRootUser(shape.baseUser || 'root') && (shape.packages.length > 0 || fixups.length > 0);
  const lines = [
    `# slimpy: ${stageLabel(stage)} without its build-only packages: \`${shape.names.builder}\` builds, this stage ships.`,
    `${fromWords(context)}${shape.names.final === undefined ? '' : ` AS ${shape.names.final}`}`,
    ...(asRoot ? ['USER root'] : []),
    ...copyLines(shape.names.builder, configs),
    ...(shape.packages.length > 0 ? [runtimeInstallLine(shape)] : []),
    ...copyLines(shape.names.builder, others),
    ...(fixups.length > 0 ? [`RUN ${fixups.join(' && ')}`] : []),
    ...(asRoot ? [`USER ${shape.baseUser}`] : []),
    ...settings(context, stage.instructions),
  ];
  const text = context.parsed.source.text;
  const end = stageEnd(context);
  const lead = end === text.length && !text.endsWith('\n') ? eol + eol : eol;
  return lead + lines.map((line) => line + eol).join('');
}

function runtimeInstallLine(shape: FinalStage): string {
  const listsCached = shape.cacheMounts.some((flag) =>
    /target=\/var\/lib\/apt\/lists\/?(?:,|$)/.test(flag),
  );
  const flags = shape.cacheMounts.map((flag) => `${flag} `).join('');
  return `RUN ${flags}${runtimeInstallCommand(shape.tool, shape.packages, listsCached)}`;
}

/** The cache mounts of the stage's installs (downloads and lists the runtime install can reuse). */
function cacheMounts(input: ToolchainInput, installs: readonly InstallRun[]): string[] {
  const { source } = input.context.parsed;
  const flags = installs.flatMap((install) =>
    install.run
      .getFlags()
      .filter(
        (flag) =>
          flag.getName() === 'mount' && /(?:^|,)type=cache(?:,|$)/.test(flag.getValue() ?? ''),
      )
      .map((flag) => {
        const range = flag.getRange();
        return source.text.slice(offsetAt(source, range.start), offsetAt(source, range.end));
      }),
  );
  return [...new Set(flags)];
}

/** The FROM line without its stage name: same flags, same image as written. */
function fromWords(context: PlanContext): string {
  const stage = stageOf(context, context.finalIndex);
  const { source } = context.parsed;
  const from: From = stage.from;
  const image = from.getImageRange() ?? from.getRange();
  const start = offsetAt(source, from.getInstructionRange().end);
  return `FROM${source.text.slice(start, offsetAt(source, image.end))}`;
}

/** Directories one COPY each; files and links of one directory in one COPY into it. */
function copyLines(builder: string, paths: readonly ShippedPath[]): string[] {
  const lines: string[] = [];
  const filesByDir = new Map<string, string[]>();
  for (const path of paths) {
    if (path.type === 'symlink') continue;
    if (path.type === 'dir') {
      lines.push(copyLine(builder, [path.path], path.path));
      continue;
    }
    const dir = path.path.slice(0, path.path.lastIndexOf('/')) || '/';
    filesByDir.set(dir, [...(filesByDir.get(dir) ?? []), path.path]);
  }
  for (const [dir, files] of filesByDir) {
    lines.push(
      copyLine(
        builder,
        files,
        files.length === 1 ? (files[0] as string) : `${dir.replace(/\/$/, '')}/`,
      ),
    );
  }
  return lines;
}

function copyLine(builder: string, sources: readonly string[], destination: string): string {
  const words = [...sources, destination];
  const plain = words.every((word) => /^[A-Za-z0-9._/+@:=,-]+$/.test(word));
  return plain
    ? `COPY --from=${builder} ${words.join(' ')}`
    : `COPY --from=${builder} ${JSON.stringify(words)}`;
}

/**
 * What COPY cannot carry: a copied directory itself comes out owned by root with mode 0755, and a
 * symlink is copied as the file it points to; ld.so.cache must learn the libraries copied in.
 */
function fixupCommands(paths: readonly ShippedPath[], ldconfig: boolean): string[] {
  const quote = (path: string): string => `'${path.replaceAll("'", `'\\''`)}'`;
  const commands: string[] = [];
  for (const path of paths) {
    if (path.type === 'symlink' && path.target !== undefined) {
      commands.push(`ln -sfn ${quote(path.target)} ${quote(path.path)}`);
    } else if (path.type === 'dir') {
      if (path.uid !== 0 || path.gid !== 0)
        commands.push(`chown ${path.uid}:${path.gid} ${quote(path.path)}`);
      if (path.mode !== 0o755) commands.push(`chmod ${path.mode.toString(8)} ${quote(path.path)}`);
    }
  }
  if (ldconfig) commands.push('ldconfig');
  return commands;
}

/** The stage's instructions that set how the image runs, as written, in order. */
function settings(context: PlanContext, instructions: readonly Instruction[]): string[] {
  const { source } = context.parsed;
  return instructions
    .filter((instruction) => !(instruction instanceof From || instruction instanceof Run))
    .filter((instruction) => !(instruction instanceof Copy || instruction instanceof Add))
    .map((instruction) => {
      const range = instruction.getRange();
      return source.text.slice(offsetAt(source, range.start), offsetAt(source, range.end));
    });
}

/** Just after the stage's last instruction. */
function stageEnd(context: PlanContext): number {
  const stage = stageOf(context, context.finalIndex);
  const last = stage.instructions.at(-1) ?? stage.from;
  return nextLineStart(context.parsed.source, last.getRange().end.line);
}

function describePaths(paths: readonly ShippedPath[]): string {
  if (paths.length === 0) return 'nothing';
  const shown = paths.slice(0, 6).map((path) => `\`${path.path}\``);
  return paths.length > 6
    ? `${shown.join(', ')} and ${paths.length - 6} more paths`
    : shown.join(', ');
}

function mixedNotes(paths: readonly ShippedPath[]): string[] {
  return paths
    .filter((path) => path.ownedFiles > 0)
    .map(
      (path) =>
        `\`${path.path}\` mixes files of packages (${path.ownedFiles}) with the stage's own; the final stage copies it whole.`,
    );
}
