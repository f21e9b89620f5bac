/**
 * What strip refused, read from the slimmed build's log: prune.sh prints
 * `slimpy: strip: kept the original PATH (REASON)` for each ELF file whose stripped copy failed a
 * check (a loadable segment would move, strip failed, the dynamic section changed…).
 */
import type { StripKept } from '../model/report.js';

const KEPT = /slimpy: strip: kept the original (\S.*?) \((.*)\)\s*$/;
const EVIDENCE_PATHS = 5;

export function stripKeptFromLog(
  lines: readonly string[],
  files: ReadonlyMap<string, { size: number }>,
): StripKept | undefined {
  const kept = new Map<string, string>();
  for (const line of lines) {
    const match = KEPT.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) kept.set(match[1], reasonOf(match[2]));
  }
  if (kept.size === 0) return undefined;
  const reasons = new Map<string, number>();
  for (const reason of kept.values()) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  const paths = [...kept.keys()].sort(
    (a, b) => (files.get(b)?.size ?? 0) - (files.get(a)?.size ?? 0) || (a < b ? -1 : 1),
  );
  return {
    files: kept.size,
    bytes: paths.reduce((sum, path) => sum + (files.get(path)?.size ?? 0), 0),
    reasons: [...reasons.entries()]
      .map(([reason, count]) => ({ reason, files: count }))
      .sort((a, b) => b.files - a.files || (a.reason < b.reason ? -1 : 1)),
    paths: paths.slice(0, EVIDENCE_PATHS),
  };
}

/** `strip failed: strip: /tmp/…: file format not recognized` → `strip failed`: one group per kind. */
function reasonOf(text: string): string {
  const kind = /^(strip failed|strip warned|readelf):/.exec(text)?.[1];
  return kind ?? text;
}
