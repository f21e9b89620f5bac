/**
 * What a path in one of the image's own layers is, when it is weight the running app never needs:
 * a build toolchain, a package manager's leftovers, or an install input. Judged by path alone
 * (plus the packages a layer installed, read from dpkg's `info/<pkg>.list` names), so it works on
 * a layer index without reading file contents.
 */
import path from 'node:path';
import type { LeftoverKind } from '../../model/fixes.js';

export type ToolchainPart =
  'compiler' | 'binutils' | 'headers' | 'static-libs' | 'build-tools' | 'rust' | 'go';
export type LeftoverPart = LeftoverKind;
export type InputPart = 'wheels' | 'sdists';

/** Multiarch directory names such as `x86_64-linux-gnu`, `aarch64-linux-gnu`, `arm-linux-gnueabihf`. */
const TRIPLET = '[a-z0-9_]+-linux-gnu[a-z]*';
const HOME = '(?:/root|/home/[^/]+)';

const TOOLCHAIN_RULES: Array<[ToolchainPart, RegExp]> = [
  // gcc's drivers and compilers proper (cc1, cc1plus, lto1, collect2 live under libexec or lib).
  ['compiler', /^\/usr\/(?:lib|libexec)\/gcc(?:-cross)?\//],
  ['compiler', /^\/usr\/share\/gcc(?:-\d+)?\//],
  [
    'compiler',
    new RegExp(
      `^/usr/bin/(?:${TRIPLET}-)?(?:gcc|g\\+\\+|c\\+\\+|cc|cpp|c89|c99|c89-gcc|c99-gcc|gcov|gcov-dump|gcov-tool|lto-dump|gfortran)(?:-ar|-nm|-ranlib)?(?:-\\d+)?$`,
    ),
  ],
  [
    'compiler',
    new RegExp(
      `^/usr/lib/${TRIPLET}/lib(?:asan|hwasan|lsan|tsan|ubsan|cc1|isl|mpc|mpfr)\\.so[.\\d]*$`,
    ),
  ],
  ['compiler', /^\/usr\/lib\/llvm-\d+\//],
  ['compiler', /^\/usr\/bin\/(?:clang|clang\+\+|clang-cpp)(?:-\d+)?$/],
  // binutils: the assembler, linkers and object tools, and the libraries only they use.
  [
    'binutils',
    new RegExp(
      `^/usr/bin/(?:${TRIPLET}-)?(?:ld|ld\\.bfd|ld\\.gold|gold|as|ar|nm|ranlib|objcopy|objdump|readelf|size|strings|addr2line|c\\+\\+filt|elfedit|gprof|gprofng|dwp|gp-[a-z-]+)$`,
    ),
  ],
  [
    'binutils',
    new RegExp(
      `^/usr/lib/${TRIPLET}/(?:libbfd|libopcodes|libctf|libctf-nobfd|libsframe|libgprofng)[-.][^/]*$`,
    ),
  ],
  ['binutils', new RegExp(`^/usr/lib/${TRIPLET}/gprofng/`)],
  ['binutils', /^\/usr\/lib\/bfd-plugins\//],
  [
    'binutils',
    /^\/usr\/share\/locale\/[^/]+\/LC_MESSAGES\/(?:bfd|binutils|gas|gold|gprof|gprofng|ld|opcodes|gcc|gcc-\d+|cpplib|cpplib-\d+)\.mo$/,
  ],
  // Headers of `-dev` packages and of Python itself, and what only a linker reads.
  ['headers', /^\/usr\/(?:local\/)?include\//],
  ['static-libs', new RegExp(`^/usr/(?:local/)?lib/(?:${TRIPLET}/)?[^/]+\\.(?:a|o)$`)],
  ['static-libs', /^\/usr\/(?:local\/)?lib\/python3\.\d+\/config-[^/]+\//],
  [
    'build-tools',
    /^\/usr\/(?:local\/)?bin\/(?:make|gmake|cmake|ctest|cpack|ninja|meson|pkg-config|pkgconf|autoconf|automake|libtool)$/,
  ],
  ['build-tools', /^\/usr\/(?:local\/)?share\/cmake(?:-[\d.]+)?\//],
  ['rust', new RegExp(`^(?:/usr/local|${HOME})/(?:\\.?cargo|\\.?rustup)/`)],
  ['rust', /^\/usr\/(?:bin\/(?:rustc|cargo|rustdoc)|lib\/rustlib\/)/],
  ['go', /^\/usr\/(?:local\/go|lib\/go-[\d.]+)\//],
];

const LEFTOVER_RULES: Array<[LeftoverPart, RegExp]> = [
  ['apt-lists', /^\/var\/lib\/apt\/lists\//],
  ['apt-cache', /^\/var\/cache\/apt\/(?:archives\/.*\.deb|[^/]+\.bin)$/],
  ['apk-cache', /^\/var\/cache\/apk\//],
  ['dnf-cache', /^\/var\/cache\/(?:dnf|yum)\//],
  ['pip-cache', /\/\.cache\/pip\//],
  ['uv-cache', /\/\.cache\/uv\//],
  ['poetry-cache', /\/\.cache\/pypoetry\//],
];

/** Where wheels and archives are part of an installed tool, not an input left behind. */
const INSTALLED_PLACES =
  /\/(?:site-packages|dist-packages)\/|^\/usr\/share\/python-wheels\/|\/ensurepip\/_bundled\/|\/\.cache\//;
const WHEEL = /\.whl$/;
/** `name-1.2.3.tar.gz` and friends: what `pip download` and `python -m build --sdist` write. */
const SDIST = /^[A-Za-z0-9][A-Za-z0-9_.]*-\d[^/]*\.(?:tar\.gz|tgz|tar\.bz2|zip)$/;
const INPUT_DIRS = /^(?:wheels?|wheelhouse|dist|sdists?|packages|pkgs|vendor|deps)$/i;
const REQUIREMENTS = /^(?:requirements|constraints)[^/]*\.(?:txt|in)$/i;

export function toolchainPart(file: string): ToolchainPart | undefined {
  return TOOLCHAIN_RULES.find(([, rule]) => rule.test(file))?.[0];
}

export function leftoverPart(file: string): LeftoverPart | undefined {
  return LEFTOVER_RULES.find(([, rule]) => rule.test(file))?.[0];
}

/** The directory a cleanup removes (the content of) for a leftover file of that kind. */
export function leftoverDir(file: string, kind: LeftoverPart): string {
  switch (kind) {
    case 'apt-lists':
      return '/var/lib/apt/lists';
    case 'apt-cache':
      return '/var/cache/apt';
    case 'apk-cache':
      return '/var/cache/apk';
    case 'dnf-cache':
      return file.startsWith('/var/cache/yum/') ? '/var/cache/yum' : '/var/cache/dnf';
    default:
      return /^(.*?\/\.cache\/(?:pip|uv|pypoetry))\//.exec(file)?.[1] ?? path.posix.dirname(file);
  }
}

/**
 * Wheels anywhere but where an installed tool keeps its own; sdist-shaped archives when they sit
 * in a wheelhouse-like directory or next to a requirements file or a wheel (`inputDirs`).
 */
export function inputPart(file: string, inputDirs: ReadonlySet<string>): InputPart | undefined {
  if (INSTALLED_PLACES.test(file)) return undefined;
  if (WHEEL.test(file)) return 'wheels';
  const dir = path.posix.dirname(file);
  if (
    SDIST.test(path.posix.basename(file)) &&
    (inputDirs.has(dir) || INPUT_DIRS.test(path.posix.basename(dir)))
  ) {
    return 'sdists';
  }
  return undefined;
}

/** What pip reads to install: a wheel or sdist (`inputPart`), or a requirements/constraints file. */
export function isInstallInput(file: string, inputDirs: ReadonlySet<string>): boolean {
  return inputPart(file, inputDirs) !== undefined || REQUIREMENTS.test(path.posix.basename(file));
}

/** Directories holding a requirements file or a wheel: an archive next to them is an install input. */
export function installInputDirs(paths: Iterable<string>): Set<string> {
  const dirs = new Set<string>();
  for (const file of paths) {
    const base = path.posix.basename(file);
    if (REQUIREMENTS.test(base) || (WHEEL.test(base) && !INSTALLED_PLACES.test(file)))
      dirs.add(path.posix.dirname(file));
  }
  return dirs;
}

/**
 * Package databases, logs and caches that every install rewrites: a later install hides the
 * earlier copy, which no Dockerfile can avoid, so it is not reported as waste.
 */
const BOOKKEEPING =
  /^\/var\/(?:lib\/dpkg|cache\/debconf|cache\/ldconfig|log|lib\/rpm|lib\/pam)\/|^\/lib\/apk\/db\/|^\/etc\/(?:ld\.so\.cache|passwd-?|group-?|shadow-?|gshadow-?)$|^\/var\/lib\/apt\/extended_states$/;

export function isBookkeeping(file: string): boolean {
  return BOOKKEEPING.test(file);
}

const DPKG_LIST = /^\/var\/lib\/dpkg\/info\/([a-z0-9][a-z0-9+.-]*?)(?::[a-z0-9-]+)?\.list$/;
/** The package a dpkg `.list` path belongs to (`/var/lib/dpkg/info/libc6-dev:amd64.list` → `libc6-dev`). */
export function dpkgListPackage(file: string): string | undefined {
  return DPKG_LIST.exec(file)?.[1];
}

/** Which package names are build-only lives in the model: the toolchain fix rule decides by it too. */
export { isToolchainPackage } from '../../model/toolchain.js';

/** A toolchain package's own documentation directory, e.g. `/usr/share/doc/gcc-12/`. */
export function docPackage(file: string): string | undefined {
  return /^\/usr\/share\/doc\/([^/]+)\//.exec(file)?.[1];
}
