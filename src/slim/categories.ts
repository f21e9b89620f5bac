/** What each prune category removes, in the user's words (reports and docs). */
import type { PruneCategory } from '../model/categories.js';
import type { FixRule } from '../model/fixes.js';

/** One line each: what the category removes, and why it is safe to. */
export const CATEGORY_DESCRIPTIONS: Record<PruneCategory, string> = {
  tests:
    'package directories named exactly `tests` or `test` (never `*test*`: numpy.testing is imported at runtime)',
  pycache:
    '`__pycache__` directories and `*.pyc` / `*.pyo` files, but the bytecode the traced smoke test read (the rest Python recompiles on import)',
  stubs:
    '`*.pyi` type stubs (read by type checkers; the few that lazy_loader reads at import time stay)',
  sources:
    'build sources next to extensions: `*.c`, `*.cc`, `*.cpp`, `*.h`, `*.hpp`, `*.pyx`, `*.pxd`, `*.pxi` (not those of packages that compile at run time, such as torch)',
  'static-libs': '`*.a` static libraries (only a linker reads them)',
  packaging: 'pip, setuptools and wheel inside a virtual environment that only runs the app',
  caches: "pip's and other tool caches (`/root/.cache/pip`, `.pytest_cache`, `.mypy_cache`)",
  unused:
    'files in the Python environments the traced smoke test never opened (opt-in: holds only for the code paths the test runs)',
};

/** One line each: what a fix rule removes, and how (the same words in every report). */
export const FIX_DESCRIPTIONS: Record<FixRule, string> = {
  leftovers:
    'package-manager lists and caches (apt, apk, dnf/yum, pip, uv, Poetry), removed at the end of the RUN that writes them',
  'install-inputs':
    'COPYed wheels and sdists only later RUNs read, bind-mounted into those RUNs instead (BuildKit)',
  duplicates: 'identical files in the slimmed environments, made hard links of one another',
  'earlier-layers':
    'Python files pruned in the RUN that created them, where a later RUN would only hide them',
  toolchain: 'build-only OS packages (compilers, headers) out of the shipped stage',
};
