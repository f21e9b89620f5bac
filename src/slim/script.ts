/** The prune script's text and the words slimpy passes it. */
import { readFileSync } from 'node:fs';
import type { PruneCategory } from '../model/categories.js';

/** Where the script goes inside the build context (and in a patched repository). */
export const PRUNE_SCRIPT_PATH = '.slimpy/prune.sh';

let cached: string | undefined;

/** The bundle ships prune.sh beside dist/index.js; from source it sits beside this file. */
export function loadPruneScript(): string {
  if (cached !== undefined) return cached;
  for (const candidate of ['./prune.sh', './slim/prune.sh', '../slim/prune.sh']) {
    try {
      cached = readFileSync(new URL(candidate, import.meta.url), 'utf8');
      return cached;
    } catch {
      // try the next place
    }
  }
  throw new Error(
    'prune.sh is missing beside the slimpy bundle; reinstall or rebuild slimpy (npm run bundle).',
  );
}

export interface ScriptSettings {
  strip: boolean;
  prune: readonly PruneCategory[];
  keep: readonly string[];
  /** Distributions `unused` leaves whole (normalised names). */
  keepPackages?: readonly string[];
  /**
   * What the traced smoke test used, as paths relative to their environment (smoke/usage.ts);
   * undefined when there is no trace. With it `pycache` keeps the bytecode the test read, and
   * `unused` removes the rest of what it never touched.
   */
  traced?: readonly string[];
}

/** The option words for prune.sh (the planner shell-quotes them). */
export function pruneScriptArgs(settings: ScriptSettings): string[] {
  const args: string[] = [];
  if (!settings.strip) args.push('--no-strip');
  args.push('--prune', settings.prune.length > 0 ? settings.prune.join(',') : 'none');
  for (const glob of settings.keep) args.push('--keep', glob);
  if (settings.prune.includes('unused')) {
    for (const name of settings.keepPackages ?? []) args.push('--keep-package', name);
  }
  return args;
}

/**
 * The script as the build gets it: with the trace as comment lines after its last command, so
 * it travels in the one file the Dockerfile already brings in (and the build cache keys on it).
 */
export function pruneScriptText(settings: ScriptSettings): string {
  const script = loadPruneScript();
  if (settings.traced === undefined) return script;
  const lines = settings.traced.filter((path) => !/[\r\n]/.test(path)).map((path) => `#@ ${path}`);
  return `${script}${script.endsWith('\n') ? '' : '\n'}#@slimpy-traced\n${lines.map((line) => `${line}\n`).join('')}`;
}
