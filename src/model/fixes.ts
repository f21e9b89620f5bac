/**
 * The fix rules a user can switch on and off (`fix` input, `--fix` flag): rewrites of the user's
 * own instructions that remove what the findings measure, beside the prune categories that act
 * inside the Python environments. All are on by default.
 */
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
