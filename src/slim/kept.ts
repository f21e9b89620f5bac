/**
 * What the package exceptions kept, measured: the files of the original image that an exception
 * held back from a rule the delivered variant ran, and that the delivered image still has. The
 * exceptions come from prune.sh --explain (explain.ts) and from the Dockerfile (bytecode).
 */
import type { BytecodeChoice } from '../dockerfile/bytecode.js';
import type { PruneCategory } from '../model/categories.js';
import type { KeptException } from '../model/report.js';
import { DETECTED, PACKAGE_EXCEPTIONS } from './exceptions.js';
import type { ManifestException } from './manifest.js';
import { pruneCategoryOf } from '../measure/prune-paths.js';

/** An image's final files (MeasuredImage.files). */
type FileSizes = ReadonlyMap<string, { size: number; type: string }>;

export interface KeptInput {
  /** What prune.sh --explain listed in the original image (empty when it could not run). */
  exceptions: readonly ManifestException[];
  /** The image's Python environments. */
  environments: readonly string[];
  bytecode?: BytecodeChoice;
  /** The categories the settings asked for. */
  wanted: readonly PruneCategory[];
  /** The categories the delivered variant ran. */
  delivered: readonly PruneCategory[];
  before: FileSizes;
  after: FileSizes;
}

/** Each exception that kept something in the delivered image, biggest first. */
export function keptExceptions(input: KeptInput): KeptException[] {
  const sites = prunedSites(input);
  const kept: KeptException[] = [];
  for (const group of groupExceptions(input.exceptions)) {
    const files = sites.get(group.site);
    if (!files || !input.delivered.includes(group.category)) continue;
    // setuptools is kept whole (pkg_resources, metadata, .pth), whatever path prune.sh names.
    const patterns = group.category === 'packaging' ? [SETUPTOOLS] : group.paths.map(globPattern);
    const measured = measure(
      files,
      (rel) =>
        wouldRemove(group.category, rel) &&
        patterns.some((pattern) => matchesOrUnder(pattern, rel)),
    );
    if (measured.files === 0) continue;
    kept.push({
      id: group.id,
      category: group.category,
      environment: group.site,
      paths: group.paths,
      ...measured,
      ...explanation(group),
    });
  }
  kept.push(...keptBytecode(input, sites));
  return kept.sort((a, b) => b.bytes - a.bytes || a.id.localeCompare(b.id));
}

/** Files of an environment, relative to it, with their sizes (those the delivered image kept). */
type SiteFiles = Array<{ rel: string; size: number }>;

/**
 * The environments slimming touched (a file there is gone or smaller), each with the files the
 * delivered image still has. An untouched environment kept nothing because of an exception.
 */
function prunedSites(input: KeptInput): Map<string, SiteFiles> {
  const sites = new Map<string, { files: SiteFiles; touched: boolean }>();
  for (const [path, entry] of input.before.entries()) {
    if (entry.type !== 'file') continue;
    const site = input.environments.find((env) => path.startsWith(`${env}/`));
    if (site === undefined) continue;
    const state = sites.get(site) ?? { files: [], touched: false };
    sites.set(site, state);
    const now = input.after.get(path);
    if (now?.type === 'file' && now.size >= entry.size) {
      state.files.push({ rel: path.slice(site.length + 1), size: entry.size });
    } else {
      state.touched = true;
    }
  }
  return new Map(
    [...sites].filter(([, state]) => state.touched).map(([site, state]) => [site, state.files]),
  );
}

interface ExceptionGroup {
  site: string;
  id: string;
  category: PruneCategory;
  paths: string[];
  details: string[];
}

/** One group per table entry, per package with lazy stubs, per namespace directory, per site. */
function groupExceptions(exceptions: readonly ManifestException[]): ExceptionGroup[] {
  const groups = new Map<string, ExceptionGroup>();
  for (const entry of exceptions) {
    const part = entry.id === 'lazy-stubs' ? (entry.path.split('/')[0] ?? '') : '';
    const key = [entry.site, entry.id, entry.category, part].join('\0');
    const group = groups.get(key) ?? { ...entry, paths: [], details: [] };
    groups.set(key, group);
    if (!group.paths.includes(entry.path)) group.paths.push(entry.path);
    if (!group.details.includes(entry.detail)) group.details.push(entry.detail);
  }
  return [...groups.values()];
}

function explanation(group: ExceptionGroup): Pick<KeptException, 'reason' | 'source'> {
  const entry = PACKAGE_EXCEPTIONS.find((candidate) => candidate.id === group.id);
  if (entry)
    return { reason: `${entry.reason} (${group.details.join(', ')})`, source: entry.source };
  const detail = group.details.join(', ');
  switch (group.id) {
    case 'pkg-resources':
      return {
        reason: `${detail} imports pkg_resources, which setuptools ships until version 82`,
        source: DETECTED['pkg-resources'].source,
      };
    case 'nspkg':
      return {
        reason: `${detail} names it, and Python reports an error at every start when it is gone`,
        source: DETECTED.nspkg.source,
      };
    case 'lazy-stubs':
      return { reason: DETECTED['lazy-stubs'].reason, source: DETECTED['lazy-stubs'].source };
    default:
      return { reason: `kept by ${group.id}`, source: '' };
  }
}

/** Per environment, the bytecode that a Dockerfile compiling it on purpose keeps. */
function keptBytecode(input: KeptInput, sites: Map<string, SiteFiles>): KeptException[] {
  const choice = input.bytecode;
  if (!choice || !input.wanted.includes('pycache') || input.delivered.includes('pycache')) {
    return [];
  }
  const reason = `the Dockerfile compiles bytecode on purpose (\`${choice.evidence}\`, line ${choice.line}), choosing start time over bytes`;
  return [...sites].flatMap(([site, files]): KeptException[] => {
    const measured = measure(files, (rel) => wouldRemove('pycache', rel));
    if (measured.files === 0) return [];
    const paths = ['*/__pycache__', '*.pyc'];
    return [
      {
        id: 'bytecode',
        category: 'pycache',
        environment: site,
        paths,
        ...measured,
        reason,
        source: DETECTED.bytecode.source,
      },
    ];
  });
}

function measure(
  files: SiteFiles,
  wanted: (rel: string) => boolean,
): { files: number; bytes: number } {
  let count = 0;
  let bytes = 0;
  for (const file of files) {
    if (!wanted(file.rel)) continue;
    count += 1;
    bytes += file.size;
  }
  return { files: count, bytes };
}

/** setuptools as the packaging rule removes it: its packages, its metadata, its .pth file. */
const SETUPTOOLS =
  /^(?:setuptools|pkg_resources|_distutils_hack)\/|^setuptools-[^/]*\.dist-info\/|^distutils-precedence\.pth$/;

/**
 * Whether the category's rule in prune.sh would remove this file of an environment. A path is
 * judged by its place inside the environment, so any environment (a `--target` directory too)
 * is read as a site-packages directory; packaging exceptions only arise in virtual environments.
 */
export function wouldRemove(category: PruneCategory, rel: string): boolean {
  return pruneCategoryOf(`/site-packages/${rel}`, () => true) === category;
}

/** A prune.sh glob (`*` crosses `/`, as in a shell `case`) as an anchored regular expression. */
export function globPattern(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob.charAt(i);
    if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) source += '\\[';
      else {
        const body = glob
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\');
        source += `[${body}]`;
        i = end;
      }
    } else source += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}

/** True when `rel` or one of its parent directories matches. */
function matchesOrUnder(pattern: RegExp, rel: string): boolean {
  for (
    let path = rel;
    path !== '';
    path = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : ''
  ) {
    if (pattern.test(path)) return true;
  }
  return false;
}

/** A Python statement the auto smoke test runs to find a breakage an import would not. */
export interface ExceptionProbe {
  name: string;
  code: string;
}

/**
 * The probes for the exceptions prune.sh found in the original image: the table's own, an import
 * of each module that imports pkg_resources, and per package with lazy stubs a check that
 * lazy_loader can read every stub it kept (what `import pkg.sub` does first, without importing
 * the submodules' own dependencies on every smoke run).
 */
export function exceptionProbes(exceptions: readonly ManifestException[]): ExceptionProbe[] {
  const probes = new Map<string, string>();
  const lazy = new Map<string, Set<string>>();
  for (const entry of exceptions) {
    const table = PACKAGE_EXCEPTIONS.find((candidate) => candidate.id === entry.id);
    if (table?.probe) probes.set(table.id, table.probe);
    const module = moduleOf(entry.detail);
    if (module === undefined) continue;
    if (entry.id === 'pkg-resources') probes.set(`pkg-resources:${module}`, `import ${module}`);
    if (entry.id === 'lazy-stubs') {
      const top = module.split('.')[0] ?? module;
      lazy.set(top, (lazy.get(top) ?? new Set()).add(module));
    }
  }
  for (const [top, modules] of lazy) {
    const names = `[${[...modules]
      .sort()
      .map((name) => `'${name}'`)
      .join(', ')}]`;
    probes.set(
      `lazy-stubs:${top}`,
      `import importlib.util, lazy_loader\nfor name in ${names}:\n    lazy_loader.attach_stub(name, importlib.util.find_spec(name).origin)`,
    );
  }
  return [...probes].map(([name, code]) => ({ name, code }));
}

/** `skimage/filters/__init__.py` -> `skimage.filters`; undefined for what is no module path. */
function moduleOf(rel: string): string | undefined {
  if (!rel.endsWith('.py')) return undefined;
  const parts = rel.slice(0, -3).split('/');
  if (parts.at(-1) === '__init__') parts.pop();
  return parts.length > 0 && parts.every((part) => /^[A-Za-z_]\w*$/.test(part))
    ? parts.join('.')
    : undefined;
}
