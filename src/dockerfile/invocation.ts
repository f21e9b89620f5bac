/**
 * The words slimpy writes into a Dockerfile to run the prune script: how the script gets into
 * the build (a bind mount under BuildKit, a COPY under the classic builder) and the shell command
 * that runs it.
 */
import { PRUNE_CATEGORIES } from '../model/categories.js';

/** Where the prune script sits inside the build container while it runs. */
export const SCRIPT_TARGET = '/tmp/slimpy-prune.sh';

/**
 * The script path goes unquoted into a `--mount=` CSV value and a COPY source, where neither
 * quoting nor commas survive; a plain relative path avoids both problems.
 */
export function assertUsableScriptPath(scriptPath: string): void {
  const plain = /^[A-Za-z0-9._/-]+$/.test(scriptPath);
  const inside = !scriptPath.startsWith('/') && !scriptPath.split('/').includes('..');
  if (!plain || !inside) {
    throw new RangeError(
      `prune script path "${scriptPath}" must be a relative POSIX path inside the build context made of letters, digits, '.', '_', '-' and '/'`,
    );
  }
}

export function scriptMountFlag(scriptPath: string): string {
  return `--mount=type=bind,source=${scriptPath},target=${SCRIPT_TARGET}`;
}

/** `owner` keeps the copy deletable by a non-root USER: /tmp is sticky, so only its owner may remove it. */
export function scriptCopyInstruction(scriptPath: string, owner?: string): string {
  const chown = owner === undefined ? '' : `--chown=${owner} `;
  return `COPY ${chown}${scriptPath} ${SCRIPT_TARGET}`;
}

export function pruneCommand(scriptArgs: readonly string[], roots: readonly string[]): string {
  return ['sh', SCRIPT_TARGET, ...scriptArgs.map(shellQuote), ...roots.map(rootWord)].join(' ');
}

export const REMOVE_SCRIPT = `rm -f ${SCRIPT_TARGET}`;

const SHELL_SAFE = /^[A-Za-z0-9_./:=@%+,-]+$/;

export function shellQuote(word: string): string {
  if (SHELL_SAFE.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * A COPY source may be a glob (`/usr/local/lib/python3.*`); leaving a plain glob unquoted lets the
 * shell expand it to the same paths COPY copies.
 */
function rootWord(root: string): string {
  return /^[A-Za-z0-9_./:=@%+,*?[\]-]+$/.test(root) ? root : shellQuote(root);
}

/**
 * The script's words (as src/slim/script.ts writes them) for a narrower run: without strip,
 * and without some categories, e.g. `packaging` where a later RUN still installs with pip.
 */
export function narrowedArgs(
  scriptArgs: readonly string[],
  narrowing: { strip?: false; without?: readonly string[] },
): string[] {
  const args: string[] = [];
  for (let i = 0; i < scriptArgs.length; i += 1) {
    const word = scriptArgs[i] ?? '';
    if (word === '--prune' && i + 1 < scriptArgs.length) {
      const value = scriptArgs[i + 1] ?? '';
      const kept = (value === 'all' ? [...PRUNE_CATEGORIES] : value.split(',')).filter(
        (category) => category !== 'none' && !narrowing.without?.includes(category),
      );
      args.push('--prune', kept.length > 0 ? kept.join(',') : 'none');
      i += 1;
    } else if (word !== '--no-strip') {
      args.push(word);
    }
  }
  const strip = narrowing.strip ?? !scriptArgs.includes('--no-strip');
  return strip ? args : ['--no-strip', ...args];
}
