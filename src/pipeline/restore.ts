/**
 * When `unused` breaks the smoke test: find the distributions whose files must stay, by
 * bisection over the distributions `unused` took files from, rebuilding with some of them kept.
 * With one culprit among n distributions that takes at most 1 + ⌈log2 n⌉ builds.
 */
import type { ScriptSettings } from '../slim/script.js';

export interface RestoreResult {
  /** The distributions to keep whole; restoring them (and no others) passed the smoke test. */
  restored: string[];
  /** Variants built and tested. */
  tests: number;
}

/** Rounds of the search, each finding one distribution that must stay, before giving up. */
const MAX_ROUNDS = 4;

/**
 * Finds a small set of `candidates` whose restoring makes `passes` true, given that restoring
 * none fails. Each round binary-searches the shortest prefix of the pool that passes (with what
 * earlier rounds found), so the prefix's last distribution is needed; then checks whether what
 * was found is enough. Every set it returns was tested and passed. Undefined when restoring
 * distributions does not help (the culprit is something else).
 */
export async function searchRestore(
  candidates: readonly string[],
  passes: (restored: string[]) => Promise<boolean>,
): Promise<RestoreResult | undefined> {
  const required: string[] = [];
  let pool = [...candidates];
  let tests = 0;
  const test = (restored: string[]): Promise<boolean> => {
    tests++;
    return passes(restored);
  };
  for (let round = 0; round < MAX_ROUNDS && pool.length > 0; round++) {
    // Restoring pool[0..low) fails; restoring pool[0..high) passes, or is assumed to.
    let low = 0;
    let high = pool.length;
    let highPassed = false;
    while (high - low > 1) {
      const middle = Math.floor((low + high) / 2);
      if (await test([...required, ...pool.slice(0, middle)])) {
        high = middle;
        highPassed = true;
      } else {
        low = middle;
      }
    }
    required.push(pool[high - 1] as string);
    if (highPassed && high === 1) return { restored: required, tests };
    if (await test(required)) return { restored: required, tests };
    // Never saw a pass: is restoring every distribution enough at all?
    if (!highPassed && !(await test([...required, ...pool]))) return undefined;
    pool = pool.slice(0, high - 1);
  }
  return undefined;
}

/** A variant of the prune that passed the smoke test with some distributions kept. */
export interface RestoredVariant {
  script: ScriptSettings;
  imageId: string;
  restored: string[];
  builds: number;
}

/**
 * Runs the search over `prunable`, each test a build of `wanted` with more `keepPackages`:
 * `tryVariant` builds and smoke-tests one and gives its image id when it passes.
 */
export async function restoreUnused(
  wanted: ScriptSettings,
  prunable: readonly string[],
  tryVariant: (script: ScriptSettings) => Promise<string | undefined>,
  info: (line: string) => void,
): Promise<RestoredVariant | undefined> {
  const images = new Map<string, string>();
  const keyOf = (names: string[]): string => [...names].sort().join(',');
  const withKept = (restored: string[]): ScriptSettings => ({
    ...wanted,
    keepPackages: [...(wanted.keepPackages ?? []), ...restored],
  });
  const found = await searchRestore(prunable, async (restored) => {
    info(
      `Trying \`unused\` with ${restored.length} of ${prunable.length} distributions kept: ${restored.join(', ') || '(none)'}`,
    );
    const imageId = await tryVariant(withKept(restored));
    if (imageId !== undefined) images.set(keyOf(restored), imageId);
    return imageId !== undefined;
  });
  const imageId = found && images.get(keyOf(found.restored));
  if (!found || imageId === undefined) return undefined;
  return {
    script: withKept(found.restored),
    imageId,
    restored: found.restored,
    builds: found.tests,
  };
}
