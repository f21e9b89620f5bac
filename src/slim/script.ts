/** The prune script's text and the words slimpy passes it. */
import { readFileSync } from 'node:fs';
import type { PruneCategory } from '../model/categories.js';
import { exceptionLines } from './exceptions.js';

/** Where the script goes inside the build context (and in a patched repository). */
export const PRUNE_SCRIPT_PATH = '.slimpy/prune.sh';

let cached: string | undefined;

/**
 * The script as it runs in a build, package exceptions included. The bundle ships prune.sh beside
 * dist/index.js; from source it sits beside this file.
 */
export function loadPruneScript(): string {
  if (cached !== undefined) return cached;
  for (const candidate of ['./prune.sh', './slim/prune.sh', '../slim/prune.sh']) {
    let text: string;
    try {
      text = readFileSync(new URL(candidate, import.meta.url), 'utf8');
    } catch {
      continue; // try the next place
    }
    cached = withPackageExceptions(text, exceptionLines());
    return cached;
  }
  throw new Error(
    'prune.sh is missing beside the slimpy bundle; reinstall or rebuild slimpy (npm run bundle).',
  );
}

/** The line of prune.sh that the table replaces. */
const EXCEPTIONS_PLACEHOLDER = "PACKAGE_EXCEPTIONS=''";

/**
 * Writes the package exceptions into the script, so that a build (and a patched repository)
 * needs no other file and detects the packages it holds whenever it runs.
 */
export function withPackageExceptions(script: string, lines: readonly string[]): string {
  const parts = script.split(`\n${EXCEPTIONS_PLACEHOLDER}\n`);
  if (parts.length !== 2) {
    throw new Error(`prune.sh must hold the line ${EXCEPTIONS_PLACEHOLDER} exactly once`);
  }
  const value = lines.length > 0 ? `'\n${lines.join('\n')}\n'` : "''";
  return parts.join(`\nPACKAGE_EXCEPTIONS=${value}\n`);
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
