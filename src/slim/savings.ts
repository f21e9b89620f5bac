/**
 * What slimming saved, measured from the two images rather than reported by the script: every
 * path that is gone or smaller in the slimmed image, attributed to the rule that explains it.
 * Measured figures stay true when the build cache replays the prune step without running it.
 */
import type { CategorySaving, StrippedFile } from '../model/report.js';
import type { PruneCategory } from '../model/categories.js';

export interface FileSizes {
  get(path: string): { size: number; type: string } | undefined;
  entries(): IterableIterator<[string, { size: number; type: string }]>;
}

const SOURCE_SUFFIXES = ['.c', '.cc', '.cpp', '.cxx', '.h', '.hpp', '.pyx', '.pxd', '.pxi'];
const PACKAGING =
  /\/(site|dist)-packages\/(pip|setuptools|wheel|_distutils_hack|pkg_resources)(\/|-[^/]*\.dist-info\/)|\/(site|dist)-packages\/distutils-precedence\.pth$|\/bin\/(pip|pip3|pip3\.\d+|wheel)$/;

/** The rule that removes this path, or `other`. Mirrors prune.sh's rules. */
export function categoryOf(path: string): PruneCategory | 'other' {
  if (/\/__pycache__\//.test(path) || /\.py[co]$/.test(path)) return 'pycache';
  if (PACKAGING.test(path)) return 'packaging';
  if (/\/(site|dist)-packages\/.+\/tests?\//.test(path)) return 'tests';
  if (path.endsWith('.pyi')) return 'stubs';
  if (SOURCE_SUFFIXES.some((suffix) => path.endsWith(suffix))) return 'sources';
  if (path.endsWith('.a')) return 'static-libs';
  if (/\/\.cache\/|\/\.(pytest|mypy|ruff)_cache\//.test(path)) return 'caches';
  return 'other';
}

export function measureSavings(
  before: FileSizes,
  after: FileSizes,
  topN = 10,
): { savings: CategorySaving[]; strippedTop: StrippedFile[] } {
  const totals = new Map<CategorySaving['category'], { files: number; bytes: number }>();
  const stripped: StrippedFile[] = [];
  const add = (category: CategorySaving['category'], bytes: number): void => {
    const total = totals.get(category) ?? { files: 0, bytes: 0 };
    total.files += 1;
    total.bytes += bytes;
    totals.set(category, total);
  };
  for (const [path, file] of before.entries()) {
    if (file.type !== 'file') continue;
    const now = after.get(path);
    if (now === undefined) add(categoryOf(path), file.size);
    else if (now.type === 'file' && now.size < file.size) {
      add('strip', file.size - now.size);
      stripped.push({ path, before: file.size, after: now.size });
    }
  }
  const savings = [...totals.entries()]
    .map(([category, total]) => ({ category, ...total }))
    .sort((a, b) => b.bytes - a.bytes);
  stripped.sort((a, b) => b.before - b.after - (a.before - a.after));
  return { savings, strippedTop: stripped.slice(0, topN) };
}
