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
}

/** The option words for prune.sh (the planner shell-quotes them). */
export function pruneScriptArgs(settings: ScriptSettings): string[] {
  const args: string[] = [];
  if (!settings.strip) args.push('--no-strip');
  args.push('--prune', settings.prune.length > 0 ? settings.prune.join(',') : 'none');
  for (const glob of settings.keep) args.push('--keep', glob);
  return args;
}
