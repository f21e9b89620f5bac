/**
 * Where a RUN that installs Python packages puts them, when that is not one of the places the
 * prune searches anyway: a virtual environment named by the command (`/opt/venv/bin/pip`,
 * `python -m venv DIR`, `uv venv`), an install target (`--target`, `--prefix`), or one the
 * environment names (VIRTUAL_ENV, UV_PROJECT_ENVIRONMENT, conda prefixes, poetry's and pdm's
 * project environments). These are guesses from the text: the prune skips one that does not exist.
 */
import { posix } from 'node:path';
import { expandVariables, type VariableLookup } from './variables.js';

/** The places prune.sh searches when it is given no root (keep in step with its main()). */
const USUAL_ROOTS = [
  /^\/usr\/local\/lib\/python3/,
  /^\/usr\/lib\/python3[^/]*\/(?:site|dist)-packages/,
  /^\/(?:opt|app|srv)(?:\/|$)/,
  /^\/home\/[^/]+\/\.local\/lib\/python3/,
  /^\/root\/\.local\/lib\/python3/,
];

/** Directories that are the system itself, never an app's environment. */
const SYSTEM = new Set(['/', '/usr', '/usr/local', '/bin', '/usr/bin', '/usr/local/bin']);

export interface InstallContext {
  command: string;
  lookup: VariableLookup;
  /** The WORKDIR in force; undefined when unknown (relative paths are then left out). */
  workdir: string | undefined;
}

/** The roots a same-run prune should search besides the usual places, absolute and normalized. */
export function installRoots(run: InstallContext): string[] {
  const command = expandVariables(run.command, run.lookup).value;
  const directory = changedDirectory(command, run.workdir);
  const candidates = [
    ...commandTargets(command),
    ...environmentTargets(command, run.lookup),
  ].flatMap((path) => absolute(path, directory));
  return [...new Set(candidates)].filter(
    (root) => !SYSTEM.has(root) && !USUAL_ROOTS.some((usual) => usual.test(root)),
  );
}

/** Targets the command names itself. */
function commandTargets(command: string): string[] {
  const found: string[] = [];
  const add = (pattern: RegExp, group = 1): void => {
    for (const match of command.matchAll(pattern)) {
      const word = match[group];
      if (word) found.push(unquote(word));
    }
  };
  add(
    /(?:^|[\s;&|(])((?:["']?)[^\s;&|'"]*?)\/bin\/(?:pip3?|python3?(?:\.\d+)?|uv)(?=[\s;&|'"]|$)/g,
  );
  add(
    /\b(?:python3?(?:\.\d+)?\s+-m\s+venv|virtualenv|pyvenv|uv\s+venv)((?:\s+-\S+)*)\s+([^\s;&|-][^\s;&|]*)/g,
    2,
  );
  add(/\s--(?:target|prefix)(?:=|\s+)(\S+)/g);
  add(/\bpip3?\s+(?:\S+\s+)*?install\s+(?:\S+\s+)*?-t\s+(\S+)/g);
  add(/\b(?:conda|mamba|micromamba)\b[^;&|]*?\s(?:-p|--prefix|-r|--root-prefix)(?:=|\s+)(\S+)/g);
  if (/\buv\s+venv(?:\s+-\S+)*\s*(?:$|[;&|])/.test(command)) found.push('.venv');
  return found;
}

/** Targets the environment names for the tool the command runs. */
function environmentTargets(command: string, lookup: VariableLookup): string[] {
  const found: string[] = [];
  const value = (name: string): string | undefined => lookup(name) || undefined;
  const push = (...paths: Array<string | undefined>): void => {
    for (const path of paths) if (path) found.push(path);
  };
  if (
    /\b(?:pip3?|python3?(?:\.\d+)?\s+-m\s+pip|uv\s+pip|uv\s+sync|poetry|pipenv)\b/.test(command)
  ) {
    push(value('VIRTUAL_ENV'), value('PIP_TARGET'), value('PIP_PREFIX'));
  }
  if (/\buv\s+(?:sync|add|run)\b/.test(command)) push(value('UV_PROJECT_ENVIRONMENT') ?? '.venv');
  if (/\bpoetry\s+(?:install|add|sync)\b/.test(command)) push(...poetryTargets(command, value));
  if (/\bpdm\s+(?:install|sync|add)\b/.test(command)) push('__pypackages__', '.venv');
  if (/\bpipenv\s+(?:install|sync)\b/.test(command))
    push('.venv', '/root/.local/share/virtualenvs');
  if (/\b(?:conda|mamba|micromamba)\b/.test(command)) {
    push(value('CONDA_PREFIX'), value('MAMBA_ROOT_PREFIX'), value('CONDA_DIR'));
  }
  return found;
}

function poetryTargets(command: string, value: (name: string) => string | undefined): string[] {
  const noVirtualenv =
    /virtualenvs\.create\s+false/.test(command) ||
    /^(?:false|0)$/i.test(value('POETRY_VIRTUALENVS_CREATE') ?? '');
  if (noVirtualenv) return [];
  const inProject =
    /virtualenvs\.in-project\s+true/.test(command) ||
    /^(?:true|1)$/i.test(value('POETRY_VIRTUALENVS_IN_PROJECT') ?? '');
  const cache = value('POETRY_CACHE_DIR') ?? '/root/.cache/pypoetry';
  return inProject ? ['.venv'] : [value('POETRY_VIRTUALENVS_PATH') ?? `${cache}/virtualenvs`];
}

/** The directory a leading `cd DIR &&` moves the command to. */
function changedDirectory(command: string, workdir: string | undefined): string | undefined {
  const cd = /^\s*cd\s+(\S+)\s*&&/.exec(command)?.[1];
  if (cd === undefined) return workdir;
  const path = unquote(cd);
  if (path.startsWith('/')) return posix.normalize(path);
  return workdir === undefined ? undefined : posix.join(workdir, path);
}

function absolute(path: string, directory: string | undefined): string[] {
  if (path === '' || path.includes('$') || /[*?[]/.test(path)) return [];
  if (path.startsWith('/')) return [posix.normalize(path).replace(/(.)\/$/, '$1')];
  if (path.startsWith('~')) return [];
  return directory === undefined ? [] : [posix.join(directory, path).replace(/(.)\/$/, '$1')];
}

function unquote(word: string): string {
  return word.replace(/^["']|["']$/g, '');
}
