/** What each prune category removes, in the user's words (reports and docs). */
import type { PruneCategory } from '../model/categories.js';

/** One line each: what the category removes, and why it is safe to. */
export const CATEGORY_DESCRIPTIONS: Record<PruneCategory, string> = {
  tests:
    'package directories named exactly `tests` or `test` (never `*test*`: numpy.testing is imported at runtime)',
  pycache:
    '`__pycache__` directories and `*.pyc` / `*.pyo` files (Python recompiles on import; costs cold-start time)',
  stubs: '`*.pyi` type stubs (read by type checkers, never by the interpreter)',
  sources:
    'build sources next to extensions: `*.c`, `*.cc`, `*.cpp`, `*.h`, `*.hpp`, `*.pyx`, `*.pxd`, `*.pxi`',
  'static-libs': '`*.a` static libraries (only a linker reads them)',
  packaging: 'pip, setuptools and wheel inside a virtual environment that only runs the app',
  caches: "pip's and other tool caches (`/root/.cache/pip`, `.pytest_cache`, `.mypy_cache`)",
};
