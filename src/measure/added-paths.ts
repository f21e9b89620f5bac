/**
 * What a stage added to its base image, as the few paths a `COPY --from` would carry: each new
 * directory whole, and single paths in directories the base already had. Left out: package
 * bookkeeping, package-manager caches, and toolchain files by path (findings/rules.ts), which a
 * builder stage's final stage must not carry. A new directory holding any of those is split into
 * its children, so a copy never takes them along.
 */
import { mergeLayers } from './filesystem.js';
import { leftoverPart, toolchainPart } from './findings/rules.js';
import type { LayerContent } from './layers.js';

/**
 * Package state the final stage's own install recreates, and logs. Not the user database
 * (`/etc/passwd`, `/etc/group`, shadow files): a `useradd` of the stage must reach the image.
 */
const PACKAGE_STATE =
  /^\/(?:etc\/alternatives|etc\/ld\.so\.cache$|lib\/apk\/db|var\/lib\/dpkg|var\/lib\/apt|var\/cache\/(?:apt|apk|dnf|yum|debconf|ldconfig)|var\/lib\/(?:rpm|dnf|pam)|var\/log)(?:\/|$)/;

export function isLeftBehind(path: string): boolean {
  return (
    PACKAGE_STATE.test(path) ||
    leftoverPart(path) !== undefined ||
    toolchainPart(path) !== undefined
  );
}

interface Node {
  children: Map<string, Node>;
  /** The base image has this path. */
  inBase: boolean;
  /** Something under it (or it) is left behind. */
  holdsLeftBehind: boolean;
  /** Something under it (or it) is added and not left behind. */
  holdsAdded: boolean;
}

/** The roots to copy, sorted: new directories whole, single paths in directories the base has. */
export function addedRoots(layers: readonly LayerContent[], fromLayer: number): string[] {
  const tree = stageTree(layers, fromLayer);
  const roots: string[] = [];
  const visit = (node: Node, path: string): void => {
    for (const [name, child] of [...node.children].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const childPath = `${path}/${name}`;
      if (!child.holdsAdded) continue;
      const whole = !child.inBase && !child.holdsLeftBehind;
      if (whole || child.children.size === 0) roots.push(childPath);
      else visit(child, childPath);
    }
  };
  visit(tree, '');
  return roots;
}

function stageTree(layers: readonly LayerContent[], fromLayer: number): Node {
  const base = mergeLayers(layers.slice(0, fromLayer));
  const final = mergeLayers([...layers]);
  const root = newNode();
  for (const path of base.keys()) nodeAt(root, path, true).inBase = true;
  const parents = new Set<string>();
  for (const path of final.keys()) parents.add(path.slice(0, path.lastIndexOf('/')));
  for (const [path, entry] of final) {
    if (entry.layerIndex < fromLayer) continue;
    // A directory entry only counts when it is new and empty: otherwise its content says it.
    if (entry.type === 'dir' && (base.has(path) || parents.has(path))) continue;
    nodeAt(root, path, false);
    markAncestors(root, path, isLeftBehind(path) ? 'holdsLeftBehind' : 'holdsAdded');
  }
  return root;
}

function newNode(): Node {
  return {
    children: new Map(),
    inBase: false,
    holdsLeftBehind: false,
    holdsAdded: false,
  };
}

function nodeAt(root: Node, path: string, inBase: boolean): Node {
  let node = root;
  for (const part of path.split('/').filter(Boolean)) {
    let child = node.children.get(part);
    if (!child) {
      child = newNode();
      node.children.set(part, child);
    }
    // The base has every directory above a path it has.
    if (inBase) child.inBase = true;
    node = child;
  }
  return node;
}

function markAncestors(root: Node, path: string, flag: 'holdsLeftBehind' | 'holdsAdded'): void {
  let node: Node | undefined = root;
  for (const part of path.split('/').filter(Boolean)) {
    node = node?.children.get(part);
    if (node) node[flag] = true;
  }
}
