/**
 * OS package-manager commands in RUNs: recognising an install and a build step, and writing the
 * commands the `toolchain` rule adds (mark kept, purge build-only, install runtime packages).
 * Recognition is by command words, for the shells' common spellings; it errs towards "not an
 * install" and "a build step", the directions in which a mistake costs savings, not a build.
 */
import type { PackageManager } from '../model/toolchain.js';
import { shellQuote } from './invocation.js';
import { installsPythonPackages } from './python.js';

/** The tool a RUN installs OS packages with. */
export type InstallTool = 'apt-get' | 'apt' | 'apk' | 'dnf' | 'yum' | 'microdnf';

const INSTALLS: ReadonlyArray<[InstallTool, RegExp]> = [
  ['apt-get', /\bapt-get\s+(?:-\S+\s+)*install\b/],
  ['apt', /\bapt\s+(?:-\S+\s+)*install\b/],
  ['apk', /\bapk\s+(?:-\S+\s+)*add\b/],
  ['dnf', /\bdnf\s+(?:-\S+\s+)*install\b/],
  ['yum', /\byum\s+(?:-\S+\s+)*install\b/],
  ['microdnf', /\bmicrodnf\s+(?:-\S+\s+)*install\b/],
];

export function managerOf(tool: InstallTool): PackageManager {
  if (tool === 'apk') return 'apk';
  return tool === 'apt-get' || tool === 'apt' ? 'dpkg' : 'rpm';
}

/** The tool of the first OS package install in a command, if any. */
export function installTool(command: string): InstallTool | undefined {
  return commandSegments(command)
    .map((segment) => INSTALLS.find(([, pattern]) => pattern.test(segment))?.[0])
    .find((tool) => tool !== undefined);
}

/** Commands that need a compiler, linker or build tool when they run. */
const BUILD_STEPS: readonly RegExp[] = [
  /(?:^|[\s;&|(/])(?:gcc|g\+\+|cc|c\+\+|clang|clang\+\+|gfortran|make|cmake|ninja|meson|cargo|rustc|maturin|cythonize|f2py)(?:-[\d.]+)?(?=\s|$|;|&|\|)/,
  /\bgo\s+(?:build|install|generate)\b/,
  /(?:^|[\s;&|(])\.\/configure\b/,
  /\bsetup\.py\b/,
  /\b(?:npm|yarn|pnpm)\s+(?:ci|install|add|rebuild)\b/,
  /\bpip(?:3(?:\.\d+)?)?\s+(?:-\S+\s+)*wheel\b/,
  /\bpython(?:3(?:\.\d+)?)?\s+(?:-\S+\s+)*-m\s+build\b/,
];

/**
 * True when some part of the command (other than an OS package install) builds: installs Python
 * packages (which may compile), or runs a compiler or build tool.
 */
export function buildsCode(command: string): boolean {
  return commandSegments(command).some(
    (segment) =>
      !INSTALLS.some(([, pattern]) => pattern.test(segment)) &&
      (installsPythonPackages(segment) || BUILD_STEPS.some((pattern) => pattern.test(segment))),
  );
}

/** A command cut at its control operators, for telling its parts apart (not for running). */
function commandSegments(command: string): string[] {
  return command.split(/&&|\|\||[;&|\n]/).map((segment) => segment.trim());
}

const words = (names: readonly string[]): string => names.map(shellQuote).join(' ');

/**
 * Removes the build-only packages, after marking the runtime ones as asked-for so the removal
 * leaves them: `apt-mark manual` + `apt-get purge --auto-remove`; `apk add` (world) + `apk del`;
 * `dnf mark install` + `dnf remove` (which takes the dependencies nothing else needs). undefined
 * when the tool has no such removal (microdnf).
 */
export function purgeCommand(
  tool: InstallTool,
  purge: readonly string[],
  keep: readonly string[],
): string | undefined {
  const manager = managerOf(tool);
  const parts: string[] = [];
  if (manager === 'dpkg') {
    if (keep.length > 0) parts.push(`apt-mark manual ${words(keep)}`);
    parts.push(`apt-get purge -y --auto-remove ${words(purge)}`);
  } else if (manager === 'apk') {
    if (keep.length > 0) parts.push(`apk add --no-cache ${words(keep)}`);
    parts.push(`apk del ${words(purge)}`);
  } else {
    if (tool === 'microdnf') return undefined;
    if (keep.length > 0) parts.push(`${tool} mark install ${words(keep)}`);
    parts.push(`${tool} remove -y ${words(purge)}`);
  }
  return parts.join(' && ');
}

/**
 * Installs exactly these packages, leaving no package lists or caches behind (`listsCached`: apt's
 * lists are on a cache mount, so they never reach the layer and are kept for the next build).
 */
export function runtimeInstallCommand(
  tool: InstallTool,
  packages: readonly string[],
  listsCached = false,
): string {
  const manager = managerOf(tool);
  if (manager === 'dpkg') {
    const clean = listsCached ? '' : ' && rm -rf /var/lib/apt/lists/*';
    return `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${words(packages)}${clean}`;
  }
  if (manager === 'apk') return `apk add --no-cache ${words(packages)}`;
  return `${tool} install -y ${words(packages)} && ${tool} clean all`;
}
