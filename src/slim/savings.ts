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
import { pruneCategoryOf } from '../measure/prune-paths.js';
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
}

export interface Savings {
  savings: CategorySaving[];
  strippedTop: StrippedFile[];
  stillShipped: StillShipped[];
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
    stillShipped: stillShipped(input, attribute),
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
 * The rule that explains a change: links made of copies (`duplicates`), a smaller file (`strip`),
 * a package-manager leftover (`leftovers`), bytes of a layer a fix rule targeted, then the prune
 * category; `other` for the rest, and for bytes the rewrite added.
 */
function attribution(
  input: SavingsInput,
  before: ReadonlyMap<string, Stored>,
  after: ReadonlyMap<string, Stored>,
): Attribute {
  const delivered = new Set<FixRule>(input.fixes.map((fix) => fix.rule));
  const ruleOfLayer = layerRules(input);
  const venvs = venvRoots(input.before.files);
  const isVenv = (root: string): boolean => venvs.has(root);
  return (path, delta) => {
    if (after.get(path)?.linked && !before.get(path)?.linked) return 'duplicates';
    if (delta < 0) return 'other';
    const was = input.before.files.get(path);
    const now = input.after.files.get(path);
    if (was?.type === 'file' && now?.type === 'file' && now.size < was.size) return 'strip';
    if (delivered.has('leftovers') && leftoverPart(path) !== undefined) return 'leftovers';
    const targeted = (before.get(path)?.layers ?? []).flatMap(
      (layer) => ruleOfLayer.get(layer) ?? [],
    );
    const rule = targeted[0];
    if (rule !== undefined) return rule;
    return pruneCategoryOf(path, isVenv) ?? (input.unused ? 'unused' : 'other');
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

function stillShipped(input: SavingsInput, attribute: Attribute): StillShipped[] {
  const view = viewLayers(input.after.layers);
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
    entries.push(shippedEntry(input, index, deleter, gone, attribute));
  });
  return entries.sort((a, b) => b.bytes - a.bytes);
}

function shippedEntry(
  input: SavingsInput,
  index: number,
  deleter: number,
  gone: ReadonlyArray<{ path: string; size: number }>,
  attribute: Attribute,
): StillShipped {
  const row = input.after.measurement.layers[index];
  const base = row?.base ?? false;
  const line = originalLine(input, index);
  const byCategory = new Map<Category, number>();
  for (const file of gone) {
    const category = attribute(file.path, file.size);
    byCategory.set(category, (byCategory.get(category) ?? 0) + file.size);
  }
  const entry: StillShipped = {
    layer: index + 1,
    instruction: row?.createdBy ?? `layer ${index + 1}`,
    base,
    bytes: gone.reduce((sum, file) => sum + file.size, 0),
    files: gone.length,
    categories: [...byCategory.entries()]
      .map(([category, bytes]) => ({ category, bytes }))
      .sort((a, b) => b.bytes - a.bytes),
    ...shippedWords(base, line, deleter + 1),
    paths: [...gone]
      .sort((a, b) => b.size - a.size || (a.path < b.path ? -1 : 1))
      .slice(0, EVIDENCE_PATHS)
      .map((file) => file.path),
  };
  if (line !== undefined) entry.line = line;
  return entry;
}

/** The original Dockerfile line of a slimmed-image layer the rebuild left as it was. */
function originalLine(input: SavingsInput, index: number): number | undefined {
  const diffId = input.after.layers[index]?.diffId;
  const same = input.before.layers.findIndex((layer) => layer.diffId === diffId);
  return input.facts.layers.find((layer) => layer.index === same)?.line;
}

function shippedWords(
  base: boolean,
  line: number | undefined,
  deleter: number,
): Pick<StillShipped, 'why' | 'fix'> {
  if (base) {
    return {
      why: `They are the base image's files: layer ${deleter} deletes them from view, but the base image's layer still holds them.`,
      fix: 'Nothing a later layer does removes them; a base image without them would.',
    };
  }
  const made = line === undefined ? 'an earlier layer' : `the instruction at line ${line}`;
  return {
    why: `Made by ${made} and deleted by layer ${deleter}, a later one: that layer hides them, the earlier one still holds them.`,
    fix: 'Delete them in the RUN that creates them (create a Python environment and install into it in one RUN), or build in a builder stage and copy only the result.',
  };
}
