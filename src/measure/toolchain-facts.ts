/**
 * The facts the `toolchain` fix rule plans from (src/model/toolchain.ts), measured on the original
 * image and its base: which packages the stage installed, which the shipped files need at runtime
 * (runtime-needs.py, in a container of each image), which are build-only, what a builder stage
 * must copy, and (apt) what the purge would take, simulated. Nothing is added to any image.
 */
import type Docker from 'dockerode';
import { inspectImage } from '../engine/images.js';
import type {
  LibraryNeed,
  MissingLibrary,
  PackageManager,
  ShippedPath,
  ToolchainFacts,
  VirtualPackage,
} from '../model/toolchain.js';
import { isToolchainPackage } from '../model/toolchain.js';
import { addedRoots } from './added-paths.js';
import type { LayerContent } from './layers.js';
import { runProbe, type ProbeOptions } from './runtime-probe.js';

/** More paths than this and the stage is not one a builder stage can copy path by path. */
const MAX_ROOTS = 4000;

export interface ToolchainFactsInput extends ProbeOptions {
  /** The original image. */
  image: string;
  /** The image the stage builds FROM. */
  baseImage: string;
  layers: readonly LayerContent[];
  /** Layers of the base image: the stage's own start after them. */
  baseLayerCount: number;
}

export type ToolchainFactsResult = { facts: ToolchainFacts } | { skip: string };

/** What the probe answers in `needs` mode. */
export interface NeedsAnswer {
  manager: PackageManager | null;
  loader: ToolchainFacts['loader'];
  installed: string[];
  requested: string[] | null;
  virtuals: VirtualPackage[];
  scanned: number;
  needs: LibraryNeed[];
  missing: MissingLibrary[];
  roots: RootAnswer[];
}

export interface RootAnswer {
  path: string;
  type: ShippedPath['type'] | 'missing';
  owned: number;
  unowned: number;
  uid?: number;
  gid?: number;
  mode?: number;
  target?: string;
}

export async function measureToolchainFacts(
  docker: Docker,
  input: ToolchainFactsInput,
): Promise<ToolchainFactsResult> {
  const roots = addedRoots(input.layers, input.baseLayerCount);
  if (roots.length > MAX_ROOTS) {
    return {
      skip: `the stage adds files in ${roots.length} places, too many to copy into a final stage one by one`,
    };
  }
  const needs = (await runProbe(docker, input.image, ['needs', ...roots], input)) as NeedsAnswer;
  if (needs.manager === null) {
    return { skip: 'the image has no package manager slimpy knows (dpkg, apk or rpm)' };
  }
  const base = (await runProbe(docker, input.baseImage, ['packages'], input)) as {
    installed: string[];
  };
  const config = (await inspectImage(docker, input.baseImage)).config;
  const facts = toolchainFacts(needs, needs.manager, base.installed, config);
  if (facts.manager === 'dpkg' && facts.purge.length > 0) await simulatePurge(docker, input, facts);
  return { facts };
}

/** Everything but the apt simulation, from the two probes' answers: pure. */
export function toolchainFacts(
  needs: NeedsAnswer,
  manager: PackageManager,
  baseInstalled: readonly string[],
  base: ToolchainFacts['base'],
): ToolchainFacts {
  const inBase = new Set(baseInstalled);
  const stagePackages = needs.installed.filter((name) => !inBase.has(name));
  const stage = new Set(stagePackages);
  const requested = (needs.requested ?? stagePackages).filter((name) => stage.has(name));
  const runtime = runtimePackages(needs.needs, stage);
  const needed = new Set(runtime.map((entry) => entry.name));
  const buildOnly = stagePackages.filter((name) => isToolchainPackage(name) && !needed.has(name));
  const asked = new Set(needs.requested ?? []);
  const shipped = shippedPaths(needs.roots);
  const facts: ToolchainFacts = {
    manager,
    loader: needs.loader,
    stagePackages,
    requested,
    buildOnly,
    runtime,
    purge: purgeList(manager, requested, buildOnly, needs.virtuals, needed),
    keep: runtime.map((entry) => entry.name).filter((name) => !asked.has(name)),
    virtuals: needs.virtuals,
    missing: needs.missing,
    shipped,
    ldconfig: needs.needs.some(
      (need) => need.via === 'cache' && !need.package && underAny(need.library, shipped),
    ),
    base,
    scanned: needs.scanned,
  };
  return facts;
}

/** Stage packages owning a library that a shipped file needs, with those needs. */
function runtimePackages(
  needs: readonly LibraryNeed[],
  stage: ReadonlySet<string>,
): ToolchainFacts['runtime'] {
  const byPackage = new Map<string, LibraryNeed[]>();
  for (const need of needs) {
    if (!need.package || !stage.has(need.package)) continue;
    byPackage.set(need.package, [...(byPackage.get(need.package) ?? []), need]);
  }
  return [...byPackage]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, list]) => ({ name, needs: list }));
}

/**
 * The build-only packages asked for by name (the package manager takes what only they pulled in),
 * or all build-only packages when none was asked for by name; apk: virtual packages too, when
 * everything they pulled in is build-only or kept by name.
 */
function purgeList(
  manager: PackageManager,
  requested: readonly string[],
  buildOnly: readonly string[],
  virtuals: readonly VirtualPackage[],
  needed: ReadonlySet<string>,
): string[] {
  const build = new Set(buildOnly);
  const named = requested.filter((name) => build.has(name));
  if (manager !== 'apk') return named.length > 0 ? named : [...buildOnly];
  const groups = virtuals
    .filter((group) => group.depends.some((name) => build.has(name)))
    .filter((group) => group.depends.every((name) => build.has(name) || needed.has(name)))
    .map((group) => group.name);
  return [...groups, ...named];
}

function underAny(path: string, roots: readonly ShippedPath[]): boolean {
  return roots.some((root) => path === root.path || path.startsWith(`${root.path}/`));
}

/** The roots that hold anything no package owns: what a final stage must copy. */
function shippedPaths(roots: readonly RootAnswer[]): ShippedPath[] {
  return roots.flatMap((root) => {
    if (root.type === 'missing' || root.unowned === 0) return [];
    const path: ShippedPath = {
      path: root.path,
      type: root.type,
      uid: root.uid ?? 0,
      gid: root.gid ?? 0,
      mode: root.mode ?? 0o755,
      ownedFiles: root.owned,
    };
    if (root.target !== undefined) path.target = root.target;
    return [path];
  });
}

/**
 * `apt-get purge --auto-remove` also takes base packages that nothing depends on any more: those
 * are kept by marking them manual too. It leaves auto-installed packages that an installed one
 * suggests (APT::AutoRemove::SuggestsImportant: Debian's python3.11 suggests binutils): build-only
 * ones among them are purged by name too, unless that would take a package that must stay. The
 * simulation says what leaves.
 */
async function simulatePurge(
  docker: Docker,
  input: ToolchainFactsInput,
  facts: ToolchainFacts,
): Promise<void> {
  const simulate = async (purge: readonly string[]): Promise<string[]> => {
    const args = ['simulate', ...facts.keep, '--', ...purge];
    return ((await runProbe(docker, input.image, args, input)) as { leaving: string[] }).leaving;
  };
  const stage = new Set(facts.stagePackages);
  let leaving = await simulate(facts.purge);
  const orphans = leaving.filter((name) => !stage.has(name));
  if (orphans.length > 0) {
    facts.keep = [...facts.keep, ...orphans];
    leaving = await simulate(facts.purge);
  }
  const gone = new Set(leaving);
  const stayers = facts.buildOnly.filter((name) => !gone.has(name));
  if (stayers.length > 0) {
    const purge = [...facts.purge, ...stayers];
    const wider = await simulate(purge);
    const build = new Set(facts.buildOnly);
    const keptByName = new Set([...facts.keep, ...facts.requested.filter((n) => !build.has(n))]);
    if (!wider.some((name) => keptByName.has(name) || !stage.has(name))) {
      facts.purge = purge;
      leaving = wider;
    }
  }
  facts.leaving = leaving;
}
