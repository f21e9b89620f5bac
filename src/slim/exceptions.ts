/**
 * Package exceptions: what some packages read at run time although a prune rule names it, and
 * that an import test does not notice is gone. The table is data; prune.sh applies it (slimpy
 * writes it into the script, `pruneScriptWithExceptions`), and the report names each exception
 * that kept something, with its bytes, reason and source. docs/exceptions.md says how to add one.
 *
 * Besides the table, prune.sh finds three cases in the environment itself (`DETECTED`): modules
 * that read their stub through lazy_loader, modules importing pkg_resources, and `*-nspkg.pth`
 * files; slimpy finds the fourth, bytecode compiled on purpose, in the Dockerfile.
 */
import type { PruneCategory } from '../model/categories.js';

/** The rules an exception can hold back: those that remove package files by path. */
export type ExceptionCategory = Extract<
  PruneCategory,
  'tests' | 'stubs' | 'sources' | 'static-libs'
>;

export interface PackageException {
  /** Stable name, in the report and the manifest: `torch-inductor`. */
  id: string;
  /** Distribution names (PEP 503 normalized; `*` globs allowed) that bring the files. */
  distributions: string[];
  /** Versions it applies to, `>=2.2,<2.3` (release numbers compared); omitted: every version. */
  versions?: string;
  /** The rules that must leave the paths alone. */
  categories: ExceptionCategory[];
  /** Globs relative to the environment (site-packages); a directory keeps everything under it. */
  paths: string[];
  /** Why, in one clause the report completes: "kept 61 MB of sources in torch: <reason>". */
  reason: string;
  /** A public issue, pull request or document that shows the failure or the need. */
  source: string;
  /**
   * Python statements that fail when the kept files are missing, run by `smoke-test: auto` in
   * both images (skipped when they already fail in the original), so a breakage the exception
   * did not prevent still fails the test and the culprit search can find the rule.
   */
  probe?: string;
}

/** Sources and headers that a package compiles against at run time. */
const COMPILES_AT_RUN_TIME: ExceptionCategory[] = ['sources', 'static-libs'];

export const PACKAGE_EXCEPTIONS: readonly PackageException[] = [
  {
    id: 'torch-inductor',
    distributions: ['torch'],
    categories: COMPILES_AT_RUN_TIME,
    paths: ['torch'],
    reason: 'torch.compile (inductor) compiles C++ against torch/include at run time',
    source: 'https://github.com/pytorch/pytorch/issues/179414',
    probe:
      "import os, torch; h = os.path.join(os.path.dirname(torch.__file__), 'include', 'torch', 'csrc', 'inductor', 'cpp_prefix.h'); assert os.path.isfile(h), h + ' is missing'",
  },
  {
    id: 'triton-driver',
    distributions: ['triton', 'pytorch-triton*'],
    categories: COMPILES_AT_RUN_TIME,
    paths: ['triton'],
    reason: 'Triton compiles its launcher (driver.c) against its bundled headers at run time',
    source: 'https://github.com/triton-lang/triton/issues/4224',
  },
  {
    id: 'cupy-nvrtc',
    distributions: ['cupy', 'cupy-*'],
    categories: COMPILES_AT_RUN_TIME,
    paths: ['cupy', 'cupyx', 'cupy_backends'],
    reason: 'CuPy compiles its kernels with NVRTC against the headers it ships, at run time',
    source: 'https://github.com/cupy/cupy/issues/8466',
  },
  {
    id: 'numba-nvrtc',
    distributions: ['numba'],
    categories: COMPILES_AT_RUN_TIME,
    paths: ['numba'],
    reason: 'numba compiles CUDA C/C++ (float16 support, linked code) with NVRTC at run time',
    source: 'https://github.com/numba/numba/issues/8821',
  },
  {
    id: 'warp-kernels',
    distributions: ['warp-lang'],
    categories: COMPILES_AT_RUN_TIME,
    paths: ['warp'],
    reason: 'Warp compiles its kernels against warp/native headers at run time',
    source: 'https://github.com/NVIDIA/warp/issues/812',
  },
  {
    id: 'cppyy-cling',
    distributions: ['cppyy-backend', 'cppyy-cling'],
    categories: COMPILES_AT_RUN_TIME,
    paths: ['cppyy_backend'],
    reason: 'Cling parses the headers in cppyy_backend/include at run time',
    source: 'https://github.com/wlav/cppyy/issues/35',
  },
  {
    id: 'pycuda-sources',
    distributions: ['pycuda'],
    categories: COMPILES_AT_RUN_TIME,
    paths: ['pycuda'],
    reason: 'SourceModule compiles kernels against the headers pycuda ships, at run time',
    source: 'https://github.com/Theano/Theano/issues/1165',
  },
  {
    id: 'pyopencl-headers',
    distributions: ['pyopencl'],
    categories: COMPILES_AT_RUN_TIME,
    paths: ['pyopencl'],
    reason: "pyopencl's kernels include pyopencl/cl/*.h (complex numbers) when they are built",
    source: 'https://documen.tician.de/pyopencl/array.html#complex-numbers',
  },
  {
    id: 'cffi-headers',
    distributions: ['cffi'],
    categories: COMPILES_AT_RUN_TIME,
    paths: ['cffi'],
    reason:
      'cffi compiles API-mode modules against its headers when a package builds one at import',
    source: 'https://github.com/zopefoundation/persistent/pull/79',
  },
  {
    id: 'cython-compiler',
    distributions: ['cython'],
    categories: COMPILES_AT_RUN_TIME,
    paths: ['Cython', 'pyximport'],
    reason: 'pyximport compiles .pyx files at import time with the sources Cython ships',
    source: 'https://github.com/cython/cython/issues/1457',
  },
  {
    id: 'numpy-f2py',
    distributions: ['numpy'],
    categories: COMPILES_AT_RUN_TIME,
    paths: ['numpy/f2py'],
    reason: 'numpy.f2py builds extension modules from the C sources it ships',
    source: 'https://github.com/numpy/numpy/issues/19673',
  },
  {
    id: 'numpy-testing-natype',
    distributions: ['numpy'],
    versions: '>=2.2,<2.3',
    categories: ['tests'],
    paths: ['numpy/_core/tests/_natype.py'],
    reason: 'numpy.testing imports numpy._core.tests._natype in numpy 2.2',
    source: 'https://github.com/numpy/numpy/pull/28936',
    probe: 'import numpy.testing',
  },
  {
    id: 'astropy-test-runner',
    distributions: ['astropy'],
    categories: ['tests'],
    paths: ['astropy/tests'],
    reason: 'import astropy imports astropy.tests.runner',
    source: 'https://github.com/astropy/astropy/issues/16177',
  },
];

/** What prune.sh and slimpy find in the environment or the Dockerfile rather than by name. */
export interface DetectedException {
  id: 'lazy-stubs' | 'pkg-resources' | 'nspkg' | 'bytecode';
  category: PruneCategory;
  reason: string;
  source: string;
}

export const DETECTED: Record<DetectedException['id'], DetectedException> = {
  'lazy-stubs': {
    id: 'lazy-stubs',
    category: 'stubs',
    reason: 'lazy_loader.attach_stub reads them when the module is imported',
    source: 'https://github.com/scikit-image/scikit-image/issues/6784',
  },
  'pkg-resources': {
    id: 'pkg-resources',
    category: 'packaging',
    reason: 'it provides pkg_resources (until setuptools 82), which a module imports',
    source: 'https://github.com/pypa/setuptools/pull/5007',
  },
  nspkg: {
    id: 'nspkg',
    category: 'tests',
    reason: 'a `*-nspkg.pth` file names it, and Python fails on it at every start when it is gone',
    source: 'https://github.com/pypa/packaging-problems/issues/414',
  },
  bytecode: {
    id: 'bytecode',
    category: 'pycache',
    reason: 'the Dockerfile compiles bytecode on purpose, choosing start time over bytes',
    source: 'https://docs.astral.sh/uv/guides/integration/docker/#compiling-bytecode',
  },
};

/** The table or detection entry an id names; undefined for an id this version does not know. */
export function exceptionById(id: string): PackageException | DetectedException | undefined {
  return (
    PACKAGE_EXCEPTIONS.find((entry) => entry.id === id) ?? DETECTED[id as DetectedException['id']]
  );
}

/** prune.sh's form of the table: `ID CATEGORY DISTRIBUTION VERSIONS PATH`, one a line. */
export function exceptionLines(table: readonly PackageException[] = PACKAGE_EXCEPTIONS): string[] {
  return table.flatMap((entry) =>
    entry.categories.flatMap((category) =>
      entry.distributions.flatMap((distribution) =>
        entry.paths.map((path) =>
          [entry.id, category, distribution, entry.versions ?? '-', path].join(' '),
        ),
      ),
    ),
  );
}

/** Words prune.sh reads as plain fields: no spaces, quotes or shell syntax. */
const PLAIN_WORD = /^[A-Za-z0-9._*/-]+$/;
const VERSIONS = /^(?:(?:>=|<=|==|!=|>|<)\d+(?:\.\d+)*)(?:,(?:>=|<=|==|!=|>|<)\d+(?:\.\d+)*)*$/;

/** Problems with table entries, one sentence each (a unit test keeps the table clean). */
export function tableProblems(table: readonly PackageException[] = PACKAGE_EXCEPTIONS): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  for (const entry of table) {
    const where = `exception ${entry.id}`;
    if (!/^[a-z0-9][a-z0-9-]*$/.test(entry.id)) problems.push(`${where}: id is not kebab-case`);
    if (ids.has(entry.id) || entry.id in DETECTED) problems.push(`${where}: id is taken`);
    ids.add(entry.id);
    for (const word of [...entry.distributions, ...entry.paths]) {
      if (!PLAIN_WORD.test(word)) problems.push(`${where}: "${word}" is not a plain word`);
    }
    for (const path of entry.paths) {
      if (path.startsWith('/') || path.split('/').includes('..')) {
        problems.push(`${where}: path "${path}" is not relative to the environment`);
      }
    }
    if (entry.distributions.some((name) => name !== name.toLowerCase() || /[_.]/.test(name))) {
      problems.push(`${where}: distribution names must be normalized (lower case, dashes)`);
    }
    if (entry.versions !== undefined && !VERSIONS.test(entry.versions)) {
      problems.push(`${where}: versions "${entry.versions}" is not like ">=2.2,<2.3"`);
    }
    if (!/^https:\/\//.test(entry.source)) problems.push(`${where}: source is not a URL`);
    if (entry.categories.length === 0 || entry.paths.length === 0) {
      problems.push(`${where}: needs at least one category and one path`);
    }
  }
  return problems;
}
