/**
 * The image's final filesystem, from its layers applied in order the way overlayfs stacks them:
 * a layer's opaque directories and whiteouts hide lower content first, then its own entries land
 * (a file replacing a directory hides the directory's subtree).
 */
import type { FileEntry, LayerContent } from './layers.js';

export interface MergedEntry {
  size: number;
  type: FileEntry['type'];
  /** Index of the layer that put this path there. */
  layerIndex: number;
}

interface TreeNode {
  children: Map<string, TreeNode>;
  entry?: MergedEntry;
  /** For a hardlink: the path it shares data with and that data's size in its layer. */
  link?: { target: string; size: number };
}

/** Path -> the entry that survives in the final image; hardlinked data is counted once. */
export function mergeLayers(layers: LayerContent[]): Map<string, MergedEntry> {
  const root = newNode();
  layers.forEach((layer, layerIndex) => {
    for (const dir of layer.opaqueDirs) lookup(root, dir)?.children.clear();
    for (const gone of layer.whiteouts) remove(root, gone);
    for (const file of layer.files) add(root, file, layerIndex);
  });
  const merged = new Map<string, MergedEntry>();
  const links: Array<{ path: string; node: TreeNode }> = [];
  const visit = (node: TreeNode, prefix: string): void => {
    for (const [name, child] of node.children) {
      const childPath = `${prefix}/${name}`;
      if (child.entry) merged.set(childPath, child.entry);
      if (child.link) links.push({ path: childPath, node: child });
      visit(child, childPath);
    }
  };
  visit(root, '');
  countOrphanedLinks(merged, links);
  return merged;
}

/** The `limit` largest regular files of the final image added by layers at `fromLayer` or later. */
export function largestFiles(
  layers: LayerContent[],
  options: { fromLayer: number; limit: number },
): Array<{ path: string; size: number; layerIndex: number }> {
  const files: Array<{ path: string; size: number; layerIndex: number }> = [];
  for (const [path, entry] of mergeLayers(layers)) {
    if (entry.type !== 'file' || entry.layerIndex < options.fromLayer) continue;
    files.push({ path, size: entry.size, layerIndex: entry.layerIndex });
  }
  files.sort((a, b) => b.size - a.size || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return files.slice(0, Math.max(0, options.limit));
}

function newNode(): TreeNode {
  return { children: new Map() };
}

function parts(path: string): string[] {
  return path.split('/').filter((part) => part !== '' && part !== '.');
}

function lookup(root: TreeNode, path: string): TreeNode | undefined {
  let node: TreeNode | undefined = root;
  for (const part of parts(path)) node = node?.children.get(part);
  return node;
}

function remove(root: TreeNode, path: string): void {
  const names = parts(path);
  const last = names.pop();
  if (last !== undefined) lookup(root, names.join('/'))?.children.delete(last);
}

function add(root: TreeNode, file: FileEntry, layerIndex: number): void {
  let node = root;
  for (const part of parts(file.path)) {
    let child = node.children.get(part);
    if (!child) {
      child = newNode();
      node.children.set(part, child);
    }
    node = child;
  }
  // Anything but a directory replaces what was there, subtree included.
  if (file.type !== 'dir') node.children.clear();
  node.entry = { size: file.size, type: file.type, layerIndex };
  node.link = undefined;
  if (file.type === 'hardlink' && file.linkTarget !== undefined) {
    // Tar hardlinks name an earlier entry of the same layer, so the target is already in place.
    const target = lookup(root, file.linkTarget)?.entry;
    node.link = { target: file.linkTarget, size: target?.size ?? 0 };
  }
}

/**
 * A hardlink costs nothing while the file it shares data with is still there. When a later layer
 * deleted or replaced that file, the data lives on in the links: the first one carries the size,
 * and it is now a plain regular file.
 */
function countOrphanedLinks(
  merged: Map<string, MergedEntry>,
  links: Array<{ path: string; node: TreeNode }>,
): void {
  const carried = new Set<string>();
  for (const { path, node } of links) {
    const entry = node.entry;
    const link = node.link;
    if (!entry || !link) continue;
    const target = merged.get(link.target);
    const intact = target?.type === 'file' && target.layerIndex === entry.layerIndex;
    const key = `${entry.layerIndex}:${link.target}`;
    if (intact || carried.has(key)) continue;
    carried.add(key);
    merged.set(path, { size: link.size, type: 'file', layerIndex: entry.layerIndex });
  }
}
