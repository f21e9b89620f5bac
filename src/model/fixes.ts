/**
 * The fix rules a user can switch on and off (`fix` input, `--fix` flag): rewrites of the user's
 * own instructions that remove what the findings measure, beside the prune categories that act
 * inside the Python environments. All are on by default.
 */
import type { ToolchainFacts } from './toolchain.js';

export const FIX_RULES = [
  /** apt/apk/dnf/pip/uv/poetry caches removed at the end of the RUN that wrote them. */
  'leftovers',
  /** COPYed wheels/sdists/dist dirs only read by later RUNs become bind mounts (BuildKit). */
  'install-inputs',
  /** Identical files inside the slimmed environments become hard links. */
  'duplicates',
  /** Files pruned in the RUN that created them, not in a later layer that cannot shrink it. */
  'earlier-layers',
  /** Build-only OS packages (compilers, headers) out of the shipped stage. */
  'toolchain',
] as const;

export type FixRule = (typeof FIX_RULES)[number];

export function isFixRule(value: string): value is FixRule {
  return (FIX_RULES as readonly string[]).includes(value);
}

/** Package-manager leftovers by kind, as the findings name them. */
export type LeftoverKind =
  'apt-lists' | 'apt-cache' | 'apk-cache' | 'dnf-cache' | 'pip-cache' | 'uv-cache' | 'poetry-cache';

/**
 * What the fix rules plan from besides the Dockerfile and the findings: facts measured once on the
 * original image (src/measure/fix-facts.ts), per layer of the image's own part.
 */
export interface FixFacts {
  /** The layers the Dockerfile's instructions made (not the base image's), oldest first. */
  layers: LayerFacts[];
  /**
   * The `toolchain` rule's packages and runtime needs (src/measure/toolchain-facts.ts), measured
   * in containers of the original image and its base when that rule is on and the findings see a
   * toolchain; `toolchainUnmeasured` says why they could not be.
   */
  toolchain?: ToolchainFacts;
  toolchainUnmeasured?: string;
}

export interface LayerFacts {
  /** 0-based position of the layer in the image (base layers included). */
  index: number;
  /** 1-based line of the instruction that made it; undefined when the layer could not be mapped. */
  line?: number;
  /** `RUN`, `COPY`, `ADD`, `WORKDIR`… */
  keyword?: string;
  /** Bytes of the regular files it holds (what `docker history` shows). */
  bytes: number;
  /** Package-manager caches and lists it ships, by kind and directory. */
  leftovers: LeftoverFact[];
  /**
   * COPY and ADD layers: the regular files it adds (other layers: empty); `input` marks wheels,
   * sdists and requirements files, what pip reads to install.
   */
  copied: Array<{ path: string; size: number; input: boolean }>;
  /**
   * COPY and ADD layers: the directories above its files under which a lower layer already had
   * files; a bind mount on one of them would hide those files from the RUNs it is mounted into.
   */
  occupied: string[];
  /** The Python environments (site-packages directories) it writes files into. */
  environments: EnvironmentFact[];
}

export interface LeftoverFact {
  kind: LeftoverKind;
  /** The directory that holds them, e.g. `/var/lib/apt/lists` or `/root/.cache/pip`. */
  dir: string;
  files: number;
  bytes: number;
}

export interface EnvironmentFact {
  /** The site-packages (or dist-packages) directory. */
  sitePackages: string;
  /** True when it belongs to a virtual environment (pyvenv.cfg beside its root). */
  venv: boolean;
  /** Bytes this layer writes into it. */
  bytes: number;
  /** Of those, pip's, setuptools' and wheel's (what the `packaging` category removes). */
  packagingBytes: number;
}
