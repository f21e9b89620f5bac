/**
 * Identical content at several paths of the final image. Candidates are visible regular files of
 * at least 64 kB whose size another visible file shares (hardlinks are one file, never a
 * duplicate) and of which at least one lies in the image's own layers; only those are compared
 * (by the content hashes the layer index holds, content-hash.ts). The comparison is bounded: the
 * biggest possible savings first, at most `maxBytes` of candidate content and `maxFiles` files.
 */
import { HASHED_MIN_BYTES } from '../layer-tar.js';
import type { LayerContent } from '../layers.js';
import type { HashRequest } from './content-hash.js';
import { hashKey } from './content-hash.js';
import type { LayerView } from './layer-view.js';

/** Smaller files are not hashed while the layers are read: their duplicates are never findings. */
export const DUPLICATE_MIN_SIZE = HASHED_MIN_BYTES;

export interface CandidateLimits {
  minSize?: number;
  /** Most candidate bytes to hash (default 2 GB). */
  maxBytes?: number;
  /** Most candidate files to hash (default 20,000). */
  maxFiles?: number;
}

interface VisibleFile {
  layer: number;
  path: string;
  size: number;
}

export interface DuplicateCopy {
  layer: number;
  path: string;
  size: number;
  /** The copy that stays: the one in the lowest layer, then the first path. */
  original: string;
}

export function duplicateCandidates(
  layers: readonly LayerContent[],
  view: LayerView,
  ownFrom: number,
  limits: CandidateLimits = {},
): HashRequest[] {
  const minSize = limits.minSize ?? DUPLICATE_MIN_SIZE;
  const groups = [...sizeGroups(view, minSize).values()].filter(
    (group) => group.length > 1 && group.some((file) => file.layer >= ownFrom),
  );
  // Biggest possible savings first, so the caps cut the least useful candidates.
  groups.sort((a, b) => b[0]!.size * (b.length - 1) - a[0]!.size * (a.length - 1));
  const requests: HashRequest[] = [];
  let bytes = 0;
  for (const group of groups) {
    const groupBytes = group.length * group[0]!.size;
    if (
      bytes + groupBytes > (limits.maxBytes ?? 2e9) ||
      requests.length + group.length > (limits.maxFiles ?? 20_000)
    )
      continue;
    bytes += groupBytes;
    for (const file of group)
      requests.push({ diffId: layers[file.layer]?.diffId ?? '', path: file.path, size: file.size });
  }
  return requests;
}

/** The extra copies: every hashed visible file whose content a lower or earlier-named file has. */
export function duplicateCopies(
  layers: readonly LayerContent[],
  view: LayerView,
  hashes: ReadonlyMap<string, string>,
  minSize = DUPLICATE_MIN_SIZE,
): DuplicateCopy[] {
  const byContent = new Map<string, VisibleFile[]>();
  for (const group of sizeGroups(view, minSize).values()) {
    for (const file of group) {
      const hash = hashes.get(hashKey(layers[file.layer]?.diffId ?? '', file.path));
      if (hash === undefined) continue;
      const key = `${file.size}:${hash}`;
      const same = byContent.get(key);
      if (same) same.push(file);
      else byContent.set(key, [file]);
    }
  }
  const copies: DuplicateCopy[] = [];
  for (const same of byContent.values()) {
    if (same.length < 2) continue;
    same.sort((a, b) => a.layer - b.layer || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const original = same[0]!.path;
    for (const file of same.slice(1)) copies.push({ ...file, original });
  }
  return copies;
}

function sizeGroups(view: LayerView, minSize: number): Map<number, VisibleFile[]> {
  const groups = new Map<number, VisibleFile[]>();
  view.files.forEach((files, layer) => {
    for (const file of files) {
      if (file.hiddenBy !== undefined || file.size < minSize) continue;
      const group = groups.get(file.size);
      // Hashed under the name that carries the data in the layer tar, even when only an alias shows.
      const visible = { layer, path: file.path, size: file.size };
      if (group) group.push(visible);
      else groups.set(file.size, [visible]);
    }
  });
  return groups;
}
