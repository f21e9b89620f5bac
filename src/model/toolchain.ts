/**
 * What the `toolchain` fix rule plans from: the packages a shipped stage installed, which of them
 * only the build needs, and which the shipped files need at runtime. Measured on the original
 * image (src/measure/toolchain-facts.ts), never guessed from names alone: a package is build-only
 * when its name says toolchain (compiler, binutils, headers, build tools) AND no file the image
 * ships needs a library it provides.
 */

export type PackageManager = 'dpkg' | 'apk' | 'rpm';

/** Packages that only building needs: compilers, binutils, `-dev`/`-devel` packages, build tools. */
const TOOLCHAIN_PACKAGE =
  /^(?:(?:gcc|g\+\+|cpp|gfortran|clang|llvm)(?:-\d+)?(?:-[a-z0-9-]+-linux-gnu[a-z]*)?|gcc-c\+\+|gcc-gfortran|binutils(?:-.+)?|libbinutils|.+-dev|.+-devel|libc-dev-bin|build-essential|build-base|linux-headers|kernel-headers|dpkg-dev|make|cmake|cmake-data|ninja-build|samurai|meson|pkg-config|pkgconf|autoconf|automake|libtool|rustc|cargo|rust|golang(?:-.+)?|go|lib(?:asan|tsan|lsan|ubsan|hwasan)\d+|libisl\d+|libmpc\d+|libmpfr\d+|libcc1-\d+|libctf0|libctf-nobfd0|libgprofng\d+)$/;

/** Whether a package's name says it is for building (dpkg, apk and rpm names). */
export function isToolchainPackage(name: string): boolean {
  return TOOLCHAIN_PACKAGE.test(name);
}

/** A shared library that a shipped ELF file needs, found as the loader finds it. */
export interface LibraryNeed {
  /** The DT_NEEDED name, e.g. `libpq.so.5`. */
  soname: string;
  /** Where the loader finds it, e.g. `/lib/x86_64-linux-gnu/libpq.so.5`. */
  library: string;
  /** How: `rpath`, `env` (LD_LIBRARY_PATH), `runpath`, `cache` (ld.so.cache), `default`, `path`. */
  via: string;
  /** The package that owns the library; absent when none does. */
  package?: string;
  /** A few of the files that need it (absolute paths in the image). */
  by: string[];
  /** How many files need it. */
  count: number;
}

/** A library some shipped file needs and that the loader would not find (reported, not acted on). */
export interface MissingLibrary {
  soname: string;
  by: string[];
  count: number;
}

/** A stage package that must stay, and the needs that keep it. */
export interface RuntimePackage {
  name: string;
  needs: LibraryNeed[];
}

/** A path the stage added that a builder stage's final stage copies (not a package's, not toolchain, not a cache). */
export interface ShippedPath {
  path: string;
  type: 'dir' | 'file' | 'symlink';
  uid: number;
  gid: number;
  /** Permission bits, e.g. 0o755. */
  mode: number;
  /** Symlinks: what they point to, as written. */
  target?: string;
  /** Files under it that packages own (copied along when a directory mixes both). */
  ownedFiles: number;
}

/** An apk virtual package (`apk add --virtual .build-deps …`) and what it pulled in by name. */
export interface VirtualPackage {
  name: string;
  depends: string[];
}

export interface ToolchainFacts {
  manager: PackageManager;
  loader: 'glibc' | 'musl' | 'unknown';
  /** Packages the stage installed: the image's minus its base image's. */
  stagePackages: string[];
  /** Of those, the ones asked for by name (apt-mark showmanual, apk world, dnf userinstalled). */
  requested: string[];
  /** Stage packages that are toolchain and that nothing shipped needs. */
  buildOnly: string[];
  /** Stage packages that shipped files need at runtime, with what needs them. */
  runtime: RuntimePackage[];
  /**
   * What a same-lifetime rewrite removes by name: the build-only packages that were asked for (the
   * package manager takes what only they pulled in), or apk virtual packages made only of them.
   */
  purge: string[];
  /**
   * What it marks as asked-for first, so the removal leaves it: runtime packages that were pulled
   * in as dependencies, and (apt) base packages `--auto-remove` would take along.
   */
  keep: string[];
  /** dpkg: what `apt-get purge --auto-remove` of `purge` takes after `keep`, simulated in a container. */
  leaving?: string[];
  /** apk: the virtual packages in the image. */
  virtuals: VirtualPackage[];
  missing: MissingLibrary[];
  /** What a builder stage's final stage copies from it. */
  shipped: ShippedPath[];
  /** True when a copied library is found through ld.so.cache: the final stage must run ldconfig. */
  ldconfig: boolean;
  /** The base image's config: what an install moved later must see again, who a new stage starts as. */
  base: { env: string[]; workdir: string; user: string };
  /** How many ELF files no package owns were read for their needs. */
  scanned: number;
}
