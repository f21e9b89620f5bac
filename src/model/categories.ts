/** The prune categories a user can switch on and off, as names: the data every room shares. */
export const PRUNE_CATEGORIES = [
  'tests',
  'pycache',
  'stubs',
  'sources',
  'static-libs',
  'packaging',
  'caches',
] as const;

export type PruneCategory = (typeof PRUNE_CATEGORIES)[number];

export function isPruneCategory(value: string): value is PruneCategory {
  return (PRUNE_CATEGORIES as readonly string[]).includes(value);
}
