/**
 * Which Dockerfile line made each layer. Two alignments, both monotone (layers, history rows and
 * instructions all run oldest first):
 *
 * 1. Layers to history rows. The history API does not say which rows made a layer, so the rows
 *    are aligned to the layers by size: a row's `Size` is the bytes of its layer's regular files,
 *    rows of metadata instructions (ENV, CMD…) make none, and a row with bytes must have a layer.
 *    Zero-byte layers (a WORKDIR, an `rm`) are told apart by their content.
 * 2. History rows to the instructions of the built stage and the stages it builds FROM. A row is
 *    `/bin/sh -c #(nop) COPY file:… in /dest` or `|1 A=b /bin/sh -c cmd` from the classic
 *    builder, `RUN /bin/sh -c cmd # buildkit` or `COPY src /dest # buildkit` from BuildKit; it
 *    matches an instruction of the same keyword, better when the command or destination agrees.
 *
 * Layers below the final stage's own rows are the base image's, attributed to the root FROM.
 * When a step cannot be aligned the layer keeps its history text and no line, never a guess.
 */
import type { Instruction } from 'dockerfile-ast';
import { Add, Copy, Run } from 'dockerfile-ast';
import type { HistoryRow } from '../../engine/images.js';
import {
  copyWords,
  joinContinuations,
  parseDockerfile,
  runCommand,
} from '../../dockerfile/parse.js';
import { findTargetStage, resolveStages, stageChain } from '../../dockerfile/stages.js';
import type { LayerContent } from '../layers.js';
import { shortenInstruction } from '../sizes.js';

export interface LayerOrigin {
  /** The instruction as written in the Dockerfile (one line, shortened), else the history text. */
  instruction: string;
  /** 1-based Dockerfile line; undefined when the layer could not be mapped. */
  line?: number;
  /** `RUN`, `COPY`, `ADD`, `WORKDIR`, or `FROM` for the base image's layers. */
  keyword?: string;
  base: boolean;
}

export interface OriginInput {
  layers: readonly LayerContent[];
  /** Image history, oldest first (`imageHistory`). */
  history: readonly HistoryRow[];
  /** Layers of the base image (0 when unknown: then inferred from the history). */
  baseLayerCount: number;
  dockerfile?: string;
  target?: string;
  buildArgs?: Record<string, string>;
}

interface DockerfileStep {
  keyword: string;
  /** What a history row of it must end with (RUN) or equal (others), whitespace-normalised. */
  text: string;
  line: number;
  display: string;
}

interface RowStep {
  keyword: string | undefined;
  text: string;
}

export function layerOrigins(input: OriginInput): LayerOrigin[] {
  const rowOfLayer = alignRowsToLayers(input.history, input.layers);
  const chain = input.dockerfile === undefined ? undefined : chainSteps(input);
  const rows = input.history.map((row) => parseHistoryRow(row.createdBy));
  const firstOwnRow =
    input.baseLayerCount > 0 ? (rowOfLayer[input.baseLayerCount - 1] ?? -1) + 1 : 0;
  const stepOfRow = chain
    ? alignRowsToSteps(rows, chain.steps, firstOwnRow)
    : new Map<number, number>();
  const stepOfLayer = rowOfLayer.map((row) => (row === undefined ? undefined : stepOfRow.get(row)));
  const baseCount =
    input.baseLayerCount > 0 || !chain?.fromImage
      ? input.baseLayerCount
      : inferredBaseCount(stepOfLayer);
  return input.layers.map((_, index) => {
    if (index < baseCount) {
      return {
        instruction: chain?.from.display ?? 'FROM (base image)',
        line: chain?.from.line,
        keyword: 'FROM',
        base: true,
      };
    }
    const step = chain?.steps[stepOfLayer[index] ?? -1];
    if (step)
      return { instruction: step.display, line: step.line, keyword: step.keyword, base: false };
    const row = input.history[rowOfLayer[index] ?? -1];
    const parsed = rows[rowOfLayer[index] ?? -1];
    if (!row || !parsed) return { instruction: `layer ${index + 1}`, base: false };
    return { instruction: historyDisplay(row, parsed), keyword: parsed.keyword, base: false };
  });
}

/** A history row as an instruction: `RUN apt-get …` for either builder's RUN rows. */
function historyDisplay(row: HistoryRow, parsed: RowStep): string {
  if (parsed.keyword !== 'RUN') return shortenInstruction(row.createdBy);
  return shortenInstruction(`RUN ${parsed.text.replace(/^\/bin\/sh -c /, '')}`);
}

/** With no known base: the layers before the first one an instruction of the Dockerfile made. */
function inferredBaseCount(stepOfLayer: ReadonlyArray<number | undefined>): number {
  const first = stepOfLayer.findIndex((step) => step !== undefined);
  return first === -1 ? 0 : first;
}

// ---------------------------------------------------------------------------------------------
// 1. Layers to history rows.

const UNALIGNED = Number.NEGATIVE_INFINITY;

/** For each layer, the index of the history row that made it (all undefined when none fits). */
export function alignRowsToLayers(
  rows: readonly HistoryRow[],
  layers: readonly LayerContent[],
): Array<number | undefined> {
  const layerBytes = layers.map(historyBytes);
  const n = rows.length;
  const m = layers.length;
  // best[i][j]: score of explaining the first i rows with the first j layers.
  const best = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(UNALIGNED));
  const paired = Array.from({ length: n + 1 }, () => new Array<boolean>(m + 1).fill(false));
  best[0]![0] = 0;
  for (let i = 0; i < n; i++) {
    const row = rows[i]!;
    for (let j = 0; j <= m; j++) {
      const here = best[i]![j]!;
      if (here === UNALIGNED) continue;
      // A row with bytes must have made a layer; an empty one may not have.
      const skip = here + (row.size > 0 ? -3 : 0);
      if (skip > best[i + 1]![j]!) best[i + 1]![j] = skip;
      if (j < m && !row.emptyLayer) {
        const pair = here + pairScore(row, layers[j]!, layerBytes[j] ?? 0);
        if (pair >= best[i + 1]![j + 1]!) {
          best[i + 1]![j + 1] = pair;
          paired[i + 1]![j + 1] = true;
        }
      }
    }
  }
  const result = new Array<number | undefined>(m).fill(undefined);
  if (best[n]![m] === UNALIGNED) return result;
  for (let i = n, j = m; i > 0 && j >= 0; i--) {
    if (
      j > 0 &&
      paired[i]![j] &&
      best[i]![j] ===
        best[i - 1]![j - 1]! + pairScore(rows[i - 1]!, layers[j - 1]!, layerBytes[j - 1] ?? 0)
    ) {
      result[j - 1] = i - 1;
      j--;
    }
  }
  return result;
}

/**
 * A layer's size as the engine's history counts it (overlay2 walks the layer's directory): each
 * path once, regular files by size, symlinks by the length of their target.
 */
export function historyBytes(layer: LayerContent): number {
  const last = new Map(layer.files.map((entry) => [entry.path, entry]));
  let bytes = 0;
  for (const entry of last.values()) {
    if (entry.type === 'file') bytes += entry.size;
    else if (entry.type === 'symlink') bytes += Buffer.byteLength(entry.linkTarget ?? '');
  }
  return bytes;
}

function pairScore(row: HistoryRow, layer: LayerContent, bytes: number): number {
  if (row.size === bytes) return 3 + zeroByteHint(row, layer, bytes);
  if (row.size > 0 !== bytes > 0) return 0.25;
  return 1 + 1 - Math.abs(row.size - bytes) / Math.max(row.size, bytes);
}

/** Zero-byte layers: an `rm` leaves whiteouts, a WORKDIR only directories. */
function zeroByteHint(row: HistoryRow, layer: LayerContent, bytes: number): number {
  if (bytes > 0) return 0;
  const keyword = parseHistoryRow(row.createdBy).keyword;
  const onlyDirs =
    layer.whiteouts.length === 0 &&
    layer.files.length > 0 &&
    layer.files.every((f) => f.type === 'dir');
  if (keyword === 'WORKDIR') return onlyDirs ? 0.5 : 0;
  if (keyword === 'RUN' && layer.whiteouts.length + layer.opaqueDirs.length > 0) return 0.5;
  return 0;
}

// ---------------------------------------------------------------------------------------------
// 2. History rows to Dockerfile instructions.

const KEYWORD =
  /^(RUN|COPY|ADD|WORKDIR|ENV|ARG|LABEL|CMD|ENTRYPOINT|EXPOSE|USER|VOLUME|STOPSIGNAL|HEALTHCHECK|SHELL|ONBUILD|MAINTAINER)(?:\s+|$)/;

/** A history row's instruction keyword and its text after the keyword (RUN: the command). */
export function parseHistoryRow(createdBy: string): RowStep {
  let text = createdBy.trim().replace(/\s+# buildkit$/, '');
  if (text === '') return { keyword: undefined, text: '' };
  text = text.replace(/^\/bin\/sh -c #\(nop\)\s*/, '');
  const keyword = KEYWORD.exec(text);
  if (keyword?.[1] && keyword[1] !== 'RUN')
    return { keyword: keyword[1], text: normalize(text.slice(keyword[0].length)) };
  if (keyword) text = text.slice(keyword[0].length);
  return { keyword: 'RUN', text: normalize(withoutBuildArgs(text)) };
}

/** `|2 A=1 B=2 /bin/sh -c cmd` → `/bin/sh -c cmd`: the build args in scope, prefixed by count. */
function withoutBuildArgs(text: string): string {
  const prefix = /^\|(\d+)\s+/.exec(text);
  if (!prefix) return text;
  let rest = text.slice(prefix[0].length);
  for (let i = 0; i < Number(prefix[1]); i++) rest = rest.replace(/^[^\s=]+=\S*\s*/, '');
  return rest;
}

function normalize(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

interface ChainSteps {
  steps: DockerfileStep[];
  from: DockerfileStep;
  /** False for FROM scratch: no base layers to infer. */
  fromImage: boolean;
}

/** The instructions whose layers make up the target image: its stage and the stages it builds FROM. */
function chainSteps(input: OriginInput): ChainSteps | undefined {
  try {
    const parsed = parseDockerfile(input.dockerfile ?? '');
    // Which image a FROM names does not matter here, only the stage graph: an ARG without a value
    // (the build got it some other way) must not stop the mapping.
    const placeholders = Object.fromEntries(
      parsed.globalArgs.filter((arg) => !arg.value).map((arg) => [arg.name, 'unknown-image']),
    );
    const stages = resolveStages(parsed, { ...placeholders, ...input.buildArgs });
    const chain = stageChain(stages, findTargetStage(stages, input.target));
    const root = stages[chain[0] ?? -1];
    if (!root) return undefined;
    const steps = chain.flatMap((index) =>
      (stages[index]?.instructions ?? [])
        .slice(1)
        .map((instruction) => dockerfileStep(instruction, parsed.escapeChar)),
    );
    return {
      steps,
      from: dockerfileStep(root.from, parsed.escapeChar),
      fromImage: root.base.toLowerCase() !== 'scratch',
    };
  } catch {
    // An unparsable Dockerfile cannot have built the image; findings then carry no lines.
    return undefined;
  }
}

function dockerfileStep(instruction: Instruction, escapeChar: string): DockerfileStep {
  const keyword = instruction.getKeyword().toUpperCase();
  const line = instruction.getRange().start.line + 1;
  const display = shortenInstruction(joinContinuations(instruction.getTextContent(), escapeChar));
  if (instruction instanceof Run)
    return { keyword, line, display, text: normalize(runCommand(instruction, escapeChar)) };
  if (instruction instanceof Copy) {
    return {
      keyword,
      line,
      display,
      text: destination(copyWords(instruction, escapeChar).at(-1) ?? ''),
    };
  }
  if (instruction instanceof Add) {
    const json = instruction.getJSONStrings().map((word) => word.getJSONValue());
    const words =
      json.length > 0 ? json : instruction.getArguments().map((word) => word.getValue());
    return { keyword, line, display, text: destination(words.at(-1) ?? '') };
  }
  return { keyword, line, display, text: normalize(instruction.getRawArgumentsContent() ?? '') };
}

function destination(word: string): string {
  return word.length > 1 ? word.replace(/\/+$/, '') : word;
}

/** Score of a row made by a step: 0 when it cannot be, 1 for the keyword, 3 when the text agrees. */
function stepScore(row: RowStep, step: DockerfileStep): number {
  if (row.keyword !== step.keyword) return 0;
  if (step.keyword === 'RUN')
    return row.text === step.text || row.text.endsWith(` ${step.text}`) ? 3 : 1;
  if (step.keyword === 'COPY' || step.keyword === 'ADD') {
    return destination(row.text.split(' ').at(-1) ?? '') === step.text ? 3 : 1;
  }
  return row.text === step.text ? 3 : 1;
}

/**
 * Best-scoring monotone matching of rows (from `firstRow`) to steps. Ties keep the later row, so a
 * step whose text matches nothing still lands on the final stage's rows rather than the base's.
 */
export function alignRowsToSteps(
  rows: readonly RowStep[],
  steps: readonly DockerfileStep[],
  firstRow: number,
): Map<number, number> {
  const n = rows.length;
  const k = steps.length;
  // best[i][j]: best score matching rows[i..] with steps[j..].
  const best = Array.from({ length: n + 2 }, () => new Array<number>(k + 1).fill(0));
  for (let i = n - 1; i >= firstRow; i--) {
    for (let j = k - 1; j >= 0; j--) {
      const score = stepScore(rows[i]!, steps[j]!);
      best[i]![j] = Math.max(
        best[i + 1]![j]!,
        best[i]![j + 1]!,
        score > 0 ? score + best[i + 1]![j + 1]! : 0,
      );
    }
  }
  const matches = new Map<number, number>();
  let i = Math.max(firstRow, 0);
  let j = 0;
  while (i < n && j < k) {
    const here = best[i]![j]!;
    if (here === best[i + 1]![j]) i++;
    else if (here === best[i]![j + 1]) j++;
    else {
      matches.set(i, j);
      i++;
      j++;
    }
  }
  return matches;
}
