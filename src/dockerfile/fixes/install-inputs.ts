/**
 * `install-inputs`: a COPY (or ADD) into a shipped stage whose files only later RUNs read —
 * wheels, sdists, a `dist/` directory, with the requirements beside them — becomes a bind mount
 * on those RUNs (`RUN --mount=type=bind,source=…,target=…,rw`), so the files are there while
 * pip reads them and never in a layer. Only under BuildKit: the classic builder has no RUN
 * --mount, and there the finding stays a finding.
 *
 * "Only read by RUNs" is decided from the Dockerfile: the later RUNs that name the copied path get
 * the mount; any other later reference (CMD, ENTRYPOINT, ENV, a later COPY, another stage copying
 * it) keeps the COPY, and so does a RUN that deletes it (a mount point cannot be). The smoke test
 * proves the rest: an app that reads the directory at run time breaks it, and the culprit search
 * delivers the variant without this rule.
 */
import { posix } from 'node:path';
import { Add, Copy, Run, type Flag, type Instruction } from 'dockerfile-ast';
import type { LayerFacts } from '../../model/fixes.js';
import { lineList, lineOf, stageOf, variablesAt, workdirAt, type PlanContext } from '../context.js';
import { copyWords, joinedArguments, offsetAt, runCommand } from '../parse.js';
import { insertion, replacement } from '../rewrite.js';
import { resolveStageReference, stageChain } from '../stages.js';
import { expandVariables } from '../variables.js';
import { emptyFixPlan, layerAt, type FixInput, type FixRulePlan } from './rule.js';

export function planInstallInputs(input: FixInput): FixRulePlan {
  const plan = emptyFixPlan();
  const lines = input.findings
    .filter((finding) => finding.kind === 'install-inputs')
    .flatMap((finding) => (finding.line === undefined ? [] : [finding.line]));
  for (const line of [...new Set(lines)].sort((a, b) => a - b)) planCopy(input, line, plan);
  return plan;
}

interface Located {
  copy: Copy | Add;
  stage: number;
}

function planCopy(input: FixInput, line: number, plan: FixRulePlan): void {
  const located = locate(input.context, line);
  // Inputs a RUN downloaded are the finding's to explain: there is nothing to mount.
  if (located === undefined) return;
  const label = `The ${located.copy.getKeyword().toUpperCase()} at line ${line}`;
  if (!input.context.mounts) {
    plan.skipped.push(
      `${label} brings install inputs that only later RUNs read; without BuildKit there is no RUN --mount to bring them in instead, so they stay in the image.`,
    );
    return;
  }
  const shape = mountShape(input, located, layerAt(input.facts, line));
  if ('skip' in shape) {
    plan.skipped.push(`${label} brings install inputs, but it stays: ${shape.skip}.`);
    return;
  }
  const readers = readersOf(input.context, located, shape.target);
  if ('skip' in readers) {
    plan.skipped.push(`${label} brings install inputs, but it stays: ${readers.skip}.`);
    return;
  }
  const { source } = input.context.parsed;
  const range = located.copy.getRange();
  const runLines = lineList(readers.runs.map(lineOf));
  plan.edits.push(
    replacement(
      source,
      offsetAt(source, range.start),
      offsetAt(source, range.end),
      `# slimpy: \`${shape.source}\` is mounted into the RUN at ${runLines} instead of copied (install-inputs)`,
    ),
    ...readers.runs.map((run) =>
      insertion(offsetAt(source, run.getInstructionRange().end), ` ${mountFlag(shape)}`),
    ),
  );
  plan.lines.push(line);
  plan.notes.push(
    `${label} copied install inputs that only the RUN at ${runLines} reads: that RUN now mounts \`${shape.source}\` at \`${shape.target}\` (RUN --mount=type=bind), so they are never in a layer.`,
  );
}

/** The COPY or ADD at `line` in the built stage's chain. */
function locate(context: PlanContext, line: number): Located | undefined {
  for (const stage of context.chain) {
    for (const instruction of stageOf(context, stage).instructions) {
      if (lineOf(instruction) !== line) continue;
      return instruction instanceof Copy || instruction instanceof Add
        ? { copy: instruction, stage }
        : undefined;
    }
  }
  return undefined;
}

interface MountShape {
  /** The path the COPY read, relative to the build context (or to `from`). */
  source: string;
  /** Where the COPY put it: a directory, or the one file. */
  target: string;
  /** `from=` of the mount: the stage or image the COPY read from. */
  from?: string;
}

const PLAIN_PATH = /^[A-Za-z0-9._/@+-]+$/;
const ARCHIVE = /\.(?:tar|tgz|tbz2?|txz|tar\.(?:gz|bz2|xz|zst))$/i;

/** What the mount must say to put the COPY's files where the COPY put them, or why it cannot. */
function mountShape(
  input: FixInput,
  located: Located,
  layer: LayerFacts | undefined,
): MountShape | { skip: string } {
  const { copy } = located;
  const { context } = input;
  const flags = copy.getFlags().map((flag) => flag.getName().toLowerCase());
  const odd = flags.find((flag) => flag === 'exclude' || flag === 'parents');
  if (odd) return { skip: `it uses --${odd}, which a mount cannot repeat` };
  const from = fromOf(context, copy);
  if (from !== undefined && 'skip' in from) return from;
  const words = copyWords(copy, context.parsed.escapeChar);
  if (words.length !== 2) return { skip: 'it copies several sources into one place' };
  const lookup = variablesAt(context, copy);
  const [source, dest] = words.map((word) =>
    expandVariables(word, lookup, context.parsed.escapeChar),
  );
  if (!source || !dest || source.unresolved.length + dest.unresolved.length > 0) {
    return { skip: 'it names its paths through variables slimpy could not resolve' };
  }
  const sourcePath = posix.normalize(source.value).replace(/\/+$/, '') || '.';
  if (!PLAIN_PATH.test(sourcePath) || /[*?[]/.test(source.value)) {
    return { skip: 'its source is a pattern or has characters a mount option cannot carry' };
  }
  if (copy instanceof Add && (/^[a-z]+:\/\//i.test(source.value) || ARCHIVE.test(sourcePath))) {
    return { skip: 'ADD fetches or unpacks that source, which a mount does not' };
  }
  if (layer === undefined) return { skip: 'its layer could not be told apart in the image' };
  const contents = checkContents(layer);
  if (contents !== undefined) return { skip: contents };
  // A WORKDIR from the base image is unknown here: `/` is checked against where the files went.
  const workdir = workdirAt(context, copy) ?? '/';
  const target = targetOf(layer, posix.resolve(workdir, dest.value), sourcePath);
  if ('skip' in target) return target;
  return { source: sourcePath, target: target.path, ...(from ? { from: from.name } : {}) };
}

function fromOf(
  context: PlanContext,
  copy: Copy | Add,
): { name: string } | { skip: string } | undefined {
  const flag = copy.getFlags().find((candidate: Flag) => candidate.getName() === 'from');
  const value = flag?.getValue();
  if (!flag || !value) return undefined;
  const reference = resolveStageReference(
    value,
    context.stages,
    variablesAt(context, copy),
    context.parsed.escapeChar,
  );
  if (reference.kind === 'unresolved') return { skip: 'its --from uses an unresolved variable' };
  if (reference.kind === 'image') return { name: reference.image };
  const name = stageOf(context, reference.index).name;
  return name === undefined ? { skip: 'its --from names a stage by index' } : { name };
}

/** Only what pip reads, and a little besides (a README, a .gitkeep): never code. */
function checkContents(layer: LayerFacts): string | undefined {
  const inputs = layer.copied.filter((file) => file.input);
  const others = layer.copied.filter((file) => !file.input);
  const otherBytes = others.reduce((sum, file) => sum + file.size, 0);
  const inputBytes = inputs.reduce((sum, file) => sum + file.size, 0);
  const code = others.find((file) => /\.(?:py|so|pth|sh|js)$/.test(file.path));
  if (inputs.length > 0 && code === undefined && otherBytes <= 0.01 * inputBytes) return undefined;
  const example = code ?? [...others].sort((a, b) => b.size - a.size)[0];
  return `it also brings files the app may need (e.g. \`${example?.path ?? '?'}\`); copy the wheels on their own to have them mounted`;
}

/**
 * Where the COPY put its files, from the layer itself: a directory's content under the
 * destination, or one file at the destination or inside it.
 */
function targetOf(
  layer: LayerFacts,
  dest: string,
  source: string,
): { path: string } | { skip: string } {
  const paths = layer.copied.map((file) => file.path);
  const intoDir = posix.join(dest, posix.basename(source));
  if (paths.length === 1 && (paths[0] === dest || paths[0] === intoDir)) {
    return { path: paths[0] };
  }
  if (paths.every((path) => path.startsWith(`${dest}/`))) {
    if (dest === '/' || layer.occupied.includes(dest)) {
      return {
        skip: `\`${dest}\` already holds files from an earlier layer, which a mount there would hide`,
      };
    }
    return { path: dest };
  }
  return { skip: 'slimpy could not tell from the image where it put its files' };
}

/**
 * The later RUNs that name `target` (they get the mount), or why the COPY must stay: anything
 * else that names it, or a RUN that deletes it.
 */
function readersOf(
  context: PlanContext,
  located: Located,
  target: string,
): { runs: Run[] } | { skip: string } {
  const runs: Run[] = [];
  for (const instruction of laterInstructions(context, located)) {
    const workdir = workdirAt(context, instruction) ?? '/';
    if (instruction instanceof Run) {
      const command = runCommand(instruction, context.parsed.escapeChar);
      if (deletes(command, target, workdir)) {
        return {
          skip: `the RUN at line ${lineOf(instruction)} deletes \`${target}\`, which a mount point cannot be`,
        };
      }
      if (mentions(command, target, workdir)) runs.push(instruction);
    } else if (mentions(joinedArguments(instruction, context.parsed.escapeChar), target, workdir)) {
      return {
        skip: `line ${lineOf(instruction)} (${instruction.getKeyword().toUpperCase()}) names \`${target}\`, so the image may need it after the build`,
      };
    }
  }
  if (runs.length === 0) {
    return { skip: `no later RUN names \`${target}\`, so the app may read it at run time` };
  }
  return { runs };
}

/**
 * What comes after the COPY and sees its files: the rest of its stage, the stages built FROM it,
 * and every instruction that copies from or mounts one of those stages.
 */
function laterInstructions(context: PlanContext, located: Located): Instruction[] {
  const heirs = context.stages.filter((stage) =>
    stageChain(context.stages, stage.index).includes(located.stage),
  );
  const result = heirs.flatMap((stage) =>
    stage.instructions.filter(
      (instruction) => stage.index !== located.stage || lineOf(instruction) > lineOf(located.copy),
    ),
  );
  const heirNames = new Set(
    heirs.flatMap((stage) => (stage.name ? [stage.name.toLowerCase()] : [])),
  );
  for (const stage of context.stages) {
    if (heirs.includes(stage)) continue;
    for (const instruction of stage.instructions) {
      const text = joinedArguments(instruction, context.parsed.escapeChar).toLowerCase();
      if ([...heirNames].some((name) => new RegExp(`from=${escapeRegExp(name)}\\b`).test(text))) {
        result.push(instruction);
      }
    }
  }
  return result;
}

/** True when `text` names `path` as a path: absolutely, or relative to `workdir`. */
function mentions(text: string, path: string, workdir: string): boolean {
  return pathPattern(path, workdir).test(text);
}

function deletes(command: string, path: string, workdir: string): boolean {
  const names = pathAlternatives(path, workdir).map(escapeRegExp).join('|');
  return new RegExp(`\\brm\\s+(?:-\\S+\\s+)*(?:[^;&|\\s]+\\s+)*(?:${names})/?(?=$|[\\s;&|])`).test(
    command,
  );
}

function pathPattern(path: string, workdir: string): RegExp {
  const names = pathAlternatives(path, workdir).map(escapeRegExp).join('|');
  return new RegExp(`(?:^|[\\s=:'"(,;])(?:${names})(?=$|[\\s/'":;,)*&|])`);
}

/** `/tmp/wheels`, and `wheels` / `./wheels` when the working directory is `/tmp`. */
function pathAlternatives(path: string, workdir: string): string[] {
  const relative = posix.relative(workdir, path);
  const inside = relative !== '' && !relative.startsWith('..');
  return inside ? [path, `./${relative}`, relative] : [path];
}

function mountFlag(shape: MountShape): string {
  const from = shape.from === undefined ? '' : `,from=${shape.from}`;
  return `--mount=type=bind${from},source=${shape.source},target=${shape.target},rw`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
