/**
 * The facts the fix rules plan from (src/model/fixes.ts), measured once on the original image:
 * for each layer the Dockerfile made, its line, the package-manager leftovers it ships, what a
 * COPY brought and where, and the Python environments it writes into. Pure: the layer index and
 * the history in, plain data out.
 */
import path from 'node:path';
import type { EnvironmentFact, FixFacts, LayerFacts, LeftoverFact } from '../model/fixes.js';
import { layerOrigins, type OriginInput } from './findings/origins.js';
import { installInputDirs, isInstallInput, leftoverDir, leftoverPart } from './findings/rules.js';
import type { FileEntry, LayerContent } from './layers.js';
import { isVenvPackaging, siteOf } from './prune-paths.js';

export function fixFacts(input: OriginInput): FixFacts {
  const origins = layerOrigins(input);
  const venvs = venvRoots(input.layers);
  const isVenv = (root: string): boolean => venvs.has(root);
  const below = new DirsWithContent();
  const inputDirs = installInputDirs(
    input.layers.flatMap((layer) => layer.files.map((entry) => entry.path)),
  );
  const layers: LayerFacts[] = [];
  input.layers.forEach((layer, index) => {
    const origin = origins[index];
    const files = regularFiles(layer);
    if (origin && !origin.base) {
      const copy = origin.keyword === 'COPY' || origin.keyword === 'ADD';
      const facts: LayerFacts = {
        index,
        bytes: files.reduce((sum, file) => sum + file.size, 0),
        leftovers: leftovers(files),
        copied: copy
          ? files.map(({ path: file, size }) => ({
              path: file,
              size,
              input: isInstallInput(file, inputDirs),
            }))
          : [],
        occupied: copy ? below.occupiedAbove(files) : [],
        environments: environments(files, isVenv),
      };
      if (origin.line !== undefined) facts.line = origin.line;
      if (origin.keyword !== undefined) facts.keyword = origin.keyword;
      layers.push(facts);
    }
    below.add(layer);
  });
  return { layers };
}

/** The layer's regular files, each path once (the last tar entry wins, as it does on disk). */
function regularFiles(layer: LayerContent): FileEntry[] {
  const last = new Map(layer.files.map((entry) => [entry.path, entry]));
  return [...last.values()].filter((entry) => entry.type === 'file');
}

function leftovers(files: readonly FileEntry[]): LeftoverFact[] {
  const byDir = new Map<string, LeftoverFact>();
  for (const file of files) {
    const kind = leftoverPart(file.path);
    if (kind === undefined) continue;
    const dir = leftoverDir(file.path, kind);
    const key = `${kind}\n${dir}`;
    const fact = byDir.get(key) ?? { kind, dir, files: 0, bytes: 0 };
    fact.files += 1;
    fact.bytes += file.size;
    byDir.set(key, fact);
  }
  return [...byDir.values()];
}

function environments(
  files: readonly FileEntry[],
  isVenv: (root: string) => boolean,
): EnvironmentFact[] {
  const bySite = new Map<string, EnvironmentFact>();
  for (const file of files) {
    const site = siteOf(file.path);
    if (site === undefined) continue;
    const fact = bySite.get(site.site) ?? {
      sitePackages: site.site,
      venv: isVenv(site.root),
      bytes: 0,
      packagingBytes: 0,
    };
    fact.bytes += file.size;
    if (isVenvPackaging(file.path, isVenv)) fact.packagingBytes += file.size;
    bySite.set(site.site, fact);
  }
  return [...bySite.values()];
}

/** Directories holding a pyvenv.cfg in any layer: the roots of virtual environments. */
function venvRoots(layers: readonly LayerContent[]): Set<string> {
  const roots = new Set<string>();
  for (const layer of layers) {
    for (const entry of layer.files) {
      if (path.posix.basename(entry.path) === 'pyvenv.cfg')
        roots.add(path.posix.dirname(entry.path));
    }
  }
  return roots;
}

/** The directories that lower layers put something other than a directory under. */
class DirsWithContent {
  private readonly dirs = new Set<string>();

  add(layer: LayerContent): void {
    for (const entry of layer.files) {
      if (entry.type === 'dir') continue;
      for (const dir of ancestors(entry.path)) this.dirs.add(dir);
    }
  }

  /** The directories above `files` that already hold content from lower layers. */
  occupiedAbove(files: readonly FileEntry[]): string[] {
    const found = new Set<string>();
    for (const file of files) {
      for (const dir of ancestors(file.path)) if (this.dirs.has(dir)) found.add(dir);
    }
    return [...found].sort();
  }
}

/** `/a/b/c` → `/`, `/a`, `/a/b`. */
function ancestors(file: string): string[] {
  const dirs = ['/'];
  for (let cut = file.indexOf('/', 1); cut > 0; cut = file.indexOf('/', cut + 1)) {
    dirs.push(file.slice(0, cut));
  }
  return dirs;
}
