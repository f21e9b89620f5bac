/**
 * Which prune category removes a path, judged the way prune.sh removes them and in the script's
 * own order (pycache, packaging, tests, stubs, sources, static-libs, caches), so a file is counted
 * where the script's log counts it: bytecode in pip or in a `tests` directory is bytecode, gone
 * before its package or directory.
 */
import type { PruneCategory } from '../model/categories.js';

/** The site-packages (or dist-packages) directory a path lies in, and the path inside it. */
const SITE = /^(.*?\/(?:site|dist)-packages)\/(.+)$/;
const PACKAGING_IN_SITE =
  /^(?:(?:pip|setuptools|wheel|_distutils_hack|pkg_resources)(?:\/|$)|(?:pip|setuptools|wheel)-[^/]*\.dist-info(?:\/|$)|distutils-precedence\.pth$)/;
const PACKAGING_SCRIPT = /^(.*)\/bin\/(?:pip|pip3|pip3\.\d+|wheel)$/;
const SOURCE_SUFFIXES = ['.c', '.cc', '.cpp', '.cxx', '.h', '.hpp', '.pyx', '.pxd', '.pxi'];

export interface SiteParts {
  site: string;
  /** The path below the site directory. */
  inside: string;
  /** Where a virtual environment's pyvenv.cfg would be: three levels above the site directory. */
  root: string;
}

export function siteOf(path: string): SiteParts | undefined {
  const match = SITE.exec(path);
  if (!match?.[1] || match[2] === undefined) return undefined;
  return { site: match[1], inside: match[2], root: match[1].split('/').slice(0, -3).join('/') };
}

/**
 * pip, setuptools and wheel (and the scripts that run them) of a virtual environment: the script
 * leaves them alone outside one. `isVenv` says whether a directory holds a pyvenv.cfg.
 */
export function isVenvPackaging(path: string, isVenv: (root: string) => boolean): boolean {
  const site = siteOf(path);
  if (site) return PACKAGING_IN_SITE.test(site.inside) && isVenv(site.root);
  const script = PACKAGING_SCRIPT.exec(path);
  return script?.[1] !== undefined && isVenv(script[1]);
}

/** The category whose rule removes `path`, or undefined when no prune rule would. */
export function pruneCategoryOf(
  path: string,
  isVenv: (root: string) => boolean,
  /** Only these categories (a variant's). */
  enabled?: ReadonlySet<string>,
): PruneCategory | undefined {
  const on = (category: PruneCategory): boolean => enabled === undefined || enabled.has(category);
  if (on('pycache') && (/\/__pycache__\//.test(path) || /\.py[co]$/.test(path))) return 'pycache';
  if (on('packaging') && isVenvPackaging(path, isVenv)) return 'packaging';
  if (on('tests') && /\/(?:site|dist)-packages\/[^/]+\/(?:.+\/)?tests?\//.test(path))
    return 'tests';
  if (on('stubs') && path.endsWith('.pyi')) return 'stubs';
  if (on('sources') && SOURCE_SUFFIXES.some((suffix) => path.endsWith(suffix))) return 'sources';
  if (on('static-libs') && path.endsWith('.a')) return 'static-libs';
  if (on('caches') && /\/\.cache\/pip\/|\/\.(?:pytest|mypy|ruff)_cache\//.test(path))
    return 'caches';
  return undefined;
}
