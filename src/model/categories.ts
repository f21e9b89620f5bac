/** The prune categories a user can switch on and off, as names: the data every room shares. */

/** What `all` means: the rules that hold whatever the app does. */
export const PRUNE_CATEGORIES = [
  'tests',
  'pycache',
  'stubs',
  'sources',
  'static-libs',
  'packaging',
  'caches',
] as const;

/**
 * Categories only a user's explicit choice switches on, never part of `all`: `unused` removes the
 * files the traced smoke test never touched, which holds only for the code paths the test runs.
 */
export const OPT_IN_CATEGORIES = ['unused'] as const;

/** Every category prune.sh knows (it applies them in its own order: src/measure/prune-paths.ts). */
export const KNOWN_CATEGORIES = [...PRUNE_CATEGORIES, ...OPT_IN_CATEGORIES] as const;

export type PruneCategory = (typeof KNOWN_CATEGORIES)[number];

export function isPruneCategory(value: string): value is PruneCategory {
  return (KNOWN_CATEGORIES as readonly string[]).includes(value);
}
