/**
 * Cache keys of the size history. Entries are immutable and looked up by exact key, then by
 * prefix (newest first), so each kind of entry has its own prefix that no other kind extends:
 *
 * - `slimpy-v1-<id>-<sha>`: the report of a push (or any non-PR) run; these are the baselines.
 * - `slimpy-v1-pr-<id>-<sha>`: the report of a pull-request run. Kept apart so that falling back
 *   to "the newest baseline" never lands on an earlier run of the same PR (the Actions cache
 *   searches the PR's own scope first).
 * - `slimpy-v1-layers-<run>`: the per-layer compressed-size cache, saved under a new key each run.
 *
 * `<id>` is a hash of the comment key: any text is allowed there, a cache key allows no commas and
 * at most 512 characters, and the hex digits can never spell `pr` or `layers`.
 */
import { createHash } from 'node:crypto';

const VERSION = 'slimpy-v1';
export const LAYER_CACHE_PREFIX = `${VERSION}-layers-`;

export type EntryKind = 'baseline' | 'pull-request';

/** 16 hex digits of sha256 over the comment key: one history per image. */
export function historyId(commentKey: string): string {
  return createHash('sha256').update(commentKey.trim()).digest('hex').slice(0, 16);
}

/** The prefix every entry of one kind for one image shares. */
export function reportKeyPrefix(id: string, kind: EntryKind): string {
  return kind === 'baseline' ? `${VERSION}-${id}-` : `${VERSION}-pr-${id}-`;
}

export function reportKey(id: string, kind: EntryKind, sha: string): string {
  return `${reportKeyPrefix(id, kind)}${sha.toLowerCase()}`;
}

/** The base commit's baseline first, then (by prefix) the newest baseline the cache can see. */
export function baselineLookupKeys(
  id: string,
  baseSha: string,
): { primary: string; restore: string[] } {
  return {
    primary: reportKey(id, 'baseline', baseSha),
    restore: [reportKeyPrefix(id, 'baseline')],
  };
}

/** The commit a report key names, or undefined for a key that is not one. */
export function shaOfReportKey(key: string): string | undefined {
  return /^slimpy-v1-(?:pr-)?[0-9a-f]{16}-([0-9a-f]{7,64})$/.exec(key)?.[1];
}

/** A new key per run (entries cannot be overwritten); restored by the prefix, newest first. */
export function layerCacheKey(runUnique: string): string {
  return `${LAYER_CACHE_PREFIX}${runUnique.replace(/[^A-Za-z0-9._-]/g, '-')}`;
}
