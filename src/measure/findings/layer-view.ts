/**
 * The image's layers seen as overlay2 stacks them: for every regular file of every layer, whether
 * a later layer hides it (overwrites it, deletes it, deletes or replaces a directory above it, or
 * makes a directory above it opaque) and which layer does. Hidden files still ship in their layer:
 * that is the waste `docker history` cannot show.
 *
 * Counting rules (the double counting of wagoodman/dive#684 avoided): each (layer, path) once,
 * the last entry winning when a tar repeats a path; a file overwritten twice counts each hidden
 * copy once; a directory deleted with everything under it counts each file under it once; a file
 * and its hardlinks in one layer are one piece of data, counted at the file and hidden only when
 * every one of its names is.
 */
import type { LayerContent } from '../layers.js';

export interface ViewFile {
  path: string;
  size: number;
  /** Index of the nearest later layer that hides this data; undefined while it is visible. */
  hiddenBy?: number;
  /** Other names of the same data in this layer (hardlinks). */
  aliases?: string[];
}

export interface LayerView {
  /** Per layer (RootFS order), its regular files with data (size > 0). */
  files: ViewFile[][];
  /** Per layer, the bytes of its regular files: the layer's size as `docker history` counts it. */
  fileBytes: number[];
}

/** Layer index per hidden path (`exact`) and per path whose descendants are hidden (`below`). */
interface Hiders {
  exact: Map<string, number>;
  below: Map<string, number>;
}

export function viewLayers(layers: readonly LayerContent[]): LayerView {
  const hiders: Hiders = { exact: new Map(), below: new Map() };
  const files: ViewFile[][] = new Array<ViewFile[]>(layers.length);
  for (let index = layers.length - 1; index >= 0; index--) {
    const layer = layers[index];
    if (!layer) continue;
    files[index] = layerFiles(layer, hiders);
    addHiders(layer, index, hiders);
  }
  return {
    files: Array.from(files, (list) => list ?? []),
    fileBytes: Array.from(files, (list) => (list ?? []).reduce((sum, file) => sum + file.size, 0)),
  };
}

/** A layer's data-carrying files, each marked with the layer that hides it, if any. */
function layerFiles(layer: LayerContent, hiders: Hiders): ViewFile[] {
  const entries = new Map(layer.files.map((entry) => [entry.path, entry]));
  const aliases = new Map<string, string[]>();
  for (const entry of entries.values()) {
    if (entry.type !== 'hardlink' || entry.linkTarget === undefined) continue;
    aliases.set(entry.linkTarget, [...(aliases.get(entry.linkTarget) ?? []), entry.path]);
  }
  const files: ViewFile[] = [];
  for (const entry of entries.values()) {
    if (entry.type !== 'file' || entry.size === 0) continue;
    const names = [entry.path, ...(aliases.get(entry.path) ?? [])];
    const hiddenBy = names.map((name) => hiderOf(name, hiders));
    const file: ViewFile = { path: entry.path, size: entry.size };
    if (hiddenBy.every((by) => by !== undefined))
      file.hiddenBy = Math.max(...(hiddenBy as number[]));
    if (names.length > 1) file.aliases = names.slice(1);
    files.push(file);
  }
  return files;
}

/** The nearest later layer hiding `file`: the lowest index among those that hide it. */
function hiderOf(file: string, hiders: Hiders): number | undefined {
  const found = [hiders.exact.get(file), hiders.below.get('/')];
  for (let cut = file.lastIndexOf('/'); cut > 0; cut = file.lastIndexOf('/', cut - 1)) {
    found.push(hiders.below.get(file.slice(0, cut)));
  }
  const by = found.filter((index) => index !== undefined);
  return by.length > 0 ? Math.min(...by) : undefined;
}

/** Records what this layer hides in the layers below it (it is nearer than any recorded so far). */
function addHiders(layer: LayerContent, index: number, hiders: Hiders): void {
  for (const entry of layer.files) {
    hiders.exact.set(entry.path, index);
    // A file or link where a directory was hides everything that was under it.
    if (entry.type !== 'dir') hiders.below.set(entry.path, index);
  }
  for (const removed of layer.whiteouts) {
    hiders.exact.set(removed, index);
    hiders.below.set(removed, index);
  }
  for (const dir of layer.opaqueDirs) hiders.below.set(dir, index);
}
