/**
 * What slimming saved, measured from the two images' layers rather than reported by the script.
 * A saving counts only bytes that leave the image: per path, the bytes every layer of the
 * original stores for it minus those every layer of the slimmed image stores, attributed to the
 * rule that explains the change. The rows therefore add up to the change of the image's size
 * (which is the sum of its layers). Bytes the slimmed image deletes but an earlier layer still
 * ships are listed apart (`stillShipped`), never counted. Measured figures stay true when the
 * build cache replays a step without running it.
 */
import { Buffer } from 'node:buffer';
import type { FixOutcome } from '../dockerfile/plan.js';
import { leftoverPart } from '../measure/findings/rules.js';
import { viewLayers } from '../measure/findings/layer-view.js';
import type { LayerContent } from '../measure/layers.js';
import { pruneCategoryOf, siteOf } from '../measure/prune-paths.js';
import type { MeasuredImage } from '../measure/sizes.js';
import type { FixFacts, FixRule } from '../model/fixes.js';
import type { CategorySaving, StillShipped, StrippedFile } from '../model/report.js';

type Category = CategorySaving['category'];

export interface SavingsInput {
  before: Pick<MeasuredImage, 'layers' | 'files' | 'measurement'>;
  after: Pick<MeasuredImage, 'layers' | 'files' | 'measurement'>;
  /** The fix rules of the delivered variant, with the lines whose bytes each removes. */
  fixes: readonly FixOutcome[];
  /** Facts of the original image: which Dockerfile line made each of its layers. */
  facts: FixFacts;
  /** The delivered variant prunes `unused`: what no other rule explains went as unused. */
  unused?: boolean;
  /** The delivered variant's prune categories; a path goes to the first of them it matches. */
  categories?: readonly string[];
}

export interface Savings {
  savings: CategorySaving[];
  strippedTop: StrippedFile[];
  stillShipped: StillShipped[];
}

/** Whether slimming removed bytecode: the one change that makes imports slower to start. */
export function removesBytecode(savings: readonly CategorySaving[]): boolean {
  return savings.some((saving) => saving.category === 'pycache' && saving.files > 0);
}

export function measureSavings(input: SavingsInput, topN = 10): Savings {
  const before = storedBytes(input.before.layers);
  const after = storedBytes(input.after.layers);
  const attribute = attribution(input, before, after);
  const totals = new Map<Category, { files: number; bytes: number }>();
  const stripped: StrippedFile[] = [];
  for (const path of new Set([...before.keys(), ...after.keys()])) {
    const delta = (before.get(path)?.bytes ?? 0) - (after.get(path)?.bytes ?? 0);
    if (delta === 0) continue;
    const category = attribute(path, delta);
    const total = totals.get(category) ?? { files: 0, bytes: 0 };
    total.files += 1;
    total.bytes += delta;
    totals.set(category, total);
    if (category === 'strip') {
      const was = input.before.files.get(path)?.size ?? 0;
      stripped.push({ path, before: was, after: input.after.files.get(path)?.size ?? 0 });
    }
  }
  const savings = [...totals.entries()]
    .map(([category, total]) => ({ category, ...total }))
    .sort((a, b) => b.bytes - a.bytes);
  stripped.sort((a, b) => b.before - b.after - (a.before - a.after));
  return {
    savings,
    strippedTop: stripped.slice(0, topN),
    stillShipped: stillShipped(input),
  };
}

/** Bytes the layers store for one path, and where. */
interface Stored {
  bytes: number;
  /** Indices of the layers that store data under this path. */
  layers: number[];
  /** True when, in some layer, the path is a hard link or the file a hard link names. */
  linked: boolean;
}

/**
 * What the engine counts as a layer's size: regular files by size, symbolic links by the length
 * of their target, a hard link's data once (at the file it names).
 */
function storedBytes(layers: readonly LayerContent[]): Map<string, Stored> {
  const stored = new Map<string, Stored>();
  layers.forEach((layer, index) => {
    const last = new Map(layer.files.map((entry) => [entry.path, entry]));
    const targets = new Set(
      [...last.values()].flatMap((entry) =>
        entry.type === 'hardlink' && entry.linkTarget ? [entry.linkTarget] : [],
      ),
    );
    for (const entry of last.values()) {
      const bytes =
        entry.type === 'file'
          ? entry.size
          : entry.type === 'symlink'
            ? Buffer.byteLength(entry.linkTarget ?? '')
            : 0;
      const linked = entry.type === 'hardlink' || targets.has(entry.path);
      if (bytes === 0 && !linked) continue;
      const record = stored.get(entry.path) ?? { bytes: 0, layers: [], linked: false };
      record.bytes += bytes;
      if (bytes > 0) record.layers.push(index);
      record.linked ||= linked;
      stored.set(entry.path, record);
    }
  });
  return stored;
}

type Attribute = (path: string, delta: number) => Category;

/**
 * The rule that explains a change: links made of copies (`duplicates`), what left the layers of
 * the install and its use outside the Python environments (`toolchain`), a package-manager
 * leftover (`leftovers`), a smaller file (`strip`), bytes of a layer a fix rule targeted, then the
 * prune category; `other` for the rest, and for bytes the rewrite added.
 */
function attribution(
  input: SavingsInput,
  before: ReadonlyMap<string, Stored>,
  after: ReadonlyMap<string, Stored>,
): Attribute {
  const delivered = new Set<FixRule>(input.fixes.map((fix) => fix.rule));
  const ruleOfLayer = layerRules(input);
  const toolchainLayers = layersOfRule(input, 'toolchain');
  const venvs = venvRoots(input.before.files);
  const isVenv = (root: string): boolean => venvs.has(root);
  const enabled = input.categories ? new Set(input.categories) : undefined;
  return (path, delta) => {
    const was = input.before.files.get(path);
    const now = input.after.files.get(path);
    // A copy that became a link, or a file a link was made to in a later layer (copied up there).
    const linkedNow = after.get(path)?.linked === true && before.get(path)?.linked !== true;
    if (linkedNow && (now?.type === 'hardlink' || delta < 0)) return 'duplicates';
    if (delta < 0) return 'other';
    const layers = before.get(path)?.layers ?? [];
    const category = pruneCategoryOf(path, isVenv, enabled);
    const leftover = delivered.has('leftovers') && leftoverPart(path) !== undefined;
    // What left the install's and its use's layers outside the Python environments: the
    // toolchain's packages (headers included) and the package database they shrank, not the
    // Python files the prune takes from the RUN the install joins, nor caches.
    const outsidePython = siteOf(path) === undefined && category !== 'caches' && !leftover;
    if (outsidePython && layers.some((layer) => toolchainLayers.has(layer))) return 'toolchain';
    // A cache a package manager rewrote smaller is no stripped file.
    if (leftover) return 'leftovers';
    if (was?.type === 'file' && now?.type === 'file' && now.size < was.size) return 'strip';
    const rule = layers.flatMap((layer) => ruleOfLayer.get(layer) ?? [])[0];
    if (rule !== undefined) return rule;
    return category ?? (input.unused ? 'unused' : 'other');
  };
}

/** Layers of the original image (by index) whose bytes a layer-targeting fix rule removes. */
function layerRules(input: SavingsInput): Map<number, FixRule> {
  const rules = new Map<number, FixRule>();
  for (const fix of input.fixes) {
    if (fix.rule !== 'install-inputs' && fix.rule !== 'earlier-layers') continue;
    for (const layer of input.facts.layers) {
      if (layer.line !== undefined && fix.lines.includes(layer.line))
        rules.set(layer.index, fix.rule);
    }
  }
  return rules;
}

/** Layers of the original image (by index) made by the lines a delivered rule changed. */
function layersOfRule(input: SavingsInput, rule: FixRule): Set<number> {
  const lines = new Set(input.fixes.filter((fix) => fix.rule === rule).flatMap((fix) => fix.lines));
  return new Set(
    input.facts.layers.flatMap((layer) =>
      layer.line !== undefined && lines.has(layer.line) ? [layer.index] : [],
    ),
  );
}

function venvRoots(files: SavingsInput['before']['files']): Set<string> {
  const roots = new Set<string>();
  for (const [path, entry] of files) {
    if (entry.type === 'file' && path.endsWith('/pyvenv.cfg')) roots.add(path.slice(0, -11));
  }
  return roots;
}

// ---------------------------------------------------------------------------------------------
// Still shipped: visible in the original, deleted from the slimmed image's view, still in a layer.

const EVIDENCE_PATHS = 5;

function stillShipped(input: SavingsInput): StillShipped[] {
  const view = viewLayers(input.after.layers);
  const lines = originalLines(input);
  const venvs = venvRoots(input.before.files);
  const isVenv = (root: string): boolean => venvs.has(root);
  const entries: StillShipped[] = [];
  view.files.forEach((files, index) => {
    const gone = files.filter(
      (file) =>
        file.hiddenBy !== undefined &&
        input.before.files.get(file.path)?.type === 'file' &&
        input.after.files.get(file.path) === undefined,
    );
    if (gone.length === 0) return;
    const deleter = Math.min(...gone.map((file) => file.hiddenBy ?? index));
    const categorize = (path: string): Category =>
      leftoverPart(path) !== undefined ? 'leftovers' : (pruneCategoryOf(path, isVenv) ?? 'other');
    entries.push(shippedEntry(input, { index, deleter, lines }, gone, categorize));
  });
  return entries.sort((a, b) => b.bytes - a.bytes);
}

interface ShippedPlace {
  index: number;
  /** The layer (slimmed image) that hides the files. */
  deleter: number;
  /** Original Dockerfile line per slimmed-image layer, where known. */
  lines: ReadonlyArray<number | undefined>;
}

function shippedEntry(
  input: SavingsInput,
  place: ShippedPlace,
  gone: ReadonlyArray<{ path: string; size: number }>,
  categorize: (path: string) => Category,
): StillShipped {
  const row = input.after.measurement.layers[place.index];
  const base = row?.base ?? false;
  const line = place.lines[place.index];
  const byCategory = new Map<Category, number>();
  for (const file of gone) {
    const category = categorize(file.path);
    byCategory.set(category, (byCategory.get(category) ?? 0) + file.size);
  }
  const entry: StillShipped = {
    layer: place.index + 1,
    instruction: row?.createdBy ?? `layer ${place.index + 1}`,
    base,
    bytes: gone.reduce((sum, file) => sum + file.size, 0),
    files: gone.length,
    categories: [...byCategory.entries()]
      .map(([category, bytes]) => ({ category, bytes }))
      .sort((a, b) => b.bytes - a.bytes),
    ...shippedWords(
      { base, line, packagingOnly: [...byCategory.keys()].every((c) => c === 'packaging') },
      { layer: place.deleter + 1, line: place.lines[place.deleter] },
    ),
    paths: [...gone]
      .sort((a, b) => b.size - a.size || (a.path < b.path ? -1 : 1))
      .slice(0, EVIDENCE_PATHS)
      .map((file) => file.path),
  };
  if (line !== undefined) entry.line = line;
  return entry;
}

/**
 * The original Dockerfile line of each slimmed-image layer: a layer the rebuild left as it was
 * has the same digest; a rebuilt RUN still begins with the original command, which slimpy only
 * ever extends at its end.
 */
function originalLines(input: SavingsInput): Array<number | undefined> {
  const lineOfBefore = new Map(input.facts.layers.map((layer) => [layer.index, layer.line]));
  const rows = input.before.measurement.layers;
  let next = 0;
  return input.after.layers.map((layer, index) => {
    const same = input.before.layers.findIndex((candidate) => candidate.diffId === layer.diffId);
    const text = input.after.measurement.layers[index]?.createdBy ?? '';
    const found =
      same !== -1
        ? same
        : rows.findIndex(
            (row, at) => at >= next && !row.base && extendsCommand(text, row.createdBy),
          );
    if (found === -1) return undefined;
    next = found + 1;
    return lineOfBefore.get(found);
  });
}

/** True when `text` is `original` with something appended (both may be shortened with `…`). */
function extendsCommand(text: string, original: string): boolean {
  const head = original.replace(/…$/, '');
  if (head === '' || !text.startsWith(head)) return false;
  if (original.endsWith('…')) return true;
  const rest = text.slice(head.length);
  return rest === '' || /^[\s;]/.test(rest);
}

function shippedWords(
  made: { base: boolean; line: number | undefined; packagingOnly: boolean },
  deleter: { layer: number; line: number | undefined },
): Pick<StillShipped, 'why' | 'fix'> {
  const { base, line } = made;
  const deletedBy =
    deleter.line === undefined
      ? `layer ${deleter.layer}`
      : `the instruction at line ${deleter.line} (layer ${deleter.layer})`;
  if (base) {
    return {
      why: `They are the base image's files: ${deletedBy} deletes them from view, but the base image's layer still holds them.`,
      fix: 'Nothing a later layer does removes them; a base image without them would.',
    };
  }
  const maker = line === undefined ? 'an earlier layer' : `the instruction at line ${line}`;
  const why = `Made by ${maker} and deleted by ${deletedBy}, a later one: that layer hides them, the earlier one still holds them.`;
  if (made.packagingOnly) {
    return {
      why,
      fix: 'pip and setuptools stay in the RUN that created the environment because a later RUN installs with them: create the environment and install into it in one RUN, or in a builder stage, to have them removed.',
    };
  }
  return {
    why,
    fix: 'Delete them in the RUN that creates them (create a Python environment and install into it in one RUN), or build in a builder stage and copy only the result.',
  };
}
