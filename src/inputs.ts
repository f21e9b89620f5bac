/**
 * Parsing and validation of everything a user can set, for the action and the CLI alike:
 * sizes, growth limits, lists, prune categories. Everything else takes typed values.
 */
import * as path from 'node:path';
import { OPT_IN_CATEGORIES, PRUNE_CATEGORIES, type PruneCategory } from './model/categories.js';
import { FIX_RULES } from './model/fixes.js';
import { normalizePackageName } from './model/packages.js';
import type { Growth, Mode, Settings } from './model/settings.js';
import { defaultCommentKey } from './model/workspace.js';

export class InputError extends Error {
  constructor(
    readonly input: string,
    message: string,
  ) {
    super(`Invalid \`${input}\`: ${message}`);
    this.name = 'InputError';
  }
}

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
  k: 1e3,
  m: 1e6,
  g: 1e9,
};

/** `450MB`, `1.5 GB`, `300MiB`, `1000` (bytes). Decimal units as docker prints them. */
export function parseSize(input: string, text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = UNITS[(match?.[2] || 'b').toLowerCase()];
  if (!match || unit === undefined) {
    throw new InputError(input, `"${text}" is not a size; write it like 450MB, 1.2GB or 300MiB`);
  }
  return Math.round(Number(match[1]) * unit);
}

/** `5%` or a size (`20MB`). */
export function parseGrowth(input: string, text: string): Growth {
  const percent = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(text);
  if (percent) return { kind: 'percent', value: Number(percent[1]) };
  try {
    return { kind: 'bytes', value: parseSize(input, text) };
  } catch {
    throw new InputError(input, `"${text}" is neither a percentage (5%) nor a size (20MB)`);
  }
}

export function parseBoolean(input: string, text: string): boolean {
  const value = text.trim().toLowerCase();
  if (['true', 'yes', '1', 'on'].includes(value)) return true;
  if (['false', 'no', '0', 'off'].includes(value)) return false;
  throw new InputError(input, `"${text}" is not true or false`);
}

/** Newline- or comma-separated values, trimmed, empty ones dropped. */
export function parseList(text: string, separators: RegExp = /[\n,]/): string[] {
  return text
    .split(separators)
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/**
 * `all` (default), `none`, or a list of names; `-name` removes one from all. Shared by `prune`
 * (categories) and `fix` (fix rules).
 */
export function parseRuleList<T extends string>(
  input: string,
  text: string,
  known: readonly T[],
  noun = 'name',
): T[] {
  const items = parseList(text);
  if (items.length === 0 || (items.length === 1 && items[0] === 'all')) return [...known];
  if (items.length === 1 && items[0] === 'none') return [];
  const exclusions = items.filter((item) => item.startsWith('-')).map((item) => item.slice(1));
  const inclusions = items.filter((item) => !item.startsWith('-') && item !== 'all');
  for (const name of [...exclusions, ...inclusions]) {
    if (!(known as readonly string[]).includes(name)) {
      throw new InputError(
        input,
        `unknown ${noun} "${name}"; known: all, none, ${known.join(', ')}`,
      );
    }
  }
  const base = inclusions.length > 0 ? inclusions : [...known];
  return known.filter((name) => base.includes(name) && !exclusions.includes(name));
}

/**
 * Categories as {@link parseRuleList} reads them, plus the opt-in ones (`unused`), which `all`
 * never includes: `all,unused` is every category and unused, `unused` alone is only unused.
 */
export function parsePrune(input: string, text: string): PruneCategory[] {
  const items = parseList(text);
  const optIn = OPT_IN_CATEGORIES.filter((name) => items.includes(name));
  const rest = items.filter((item) => !(OPT_IN_CATEGORIES as readonly string[]).includes(item));
  if (optIn.length > 0 && rest.length === 0) return [...optIn];
  try {
    return [...parseRuleList(input, rest.join(','), PRUNE_CATEGORIES, 'category'), ...optIn];
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    const message = error.message.replace(/^Invalid `[^`]*`: /, '');
    throw new InputError(
      input,
      `${message}; opt-in, never in all: ${OPT_IN_CATEGORIES.join(', ')}`,
    );
  }
}

/**
 * Distribution names (`keep-packages`), newline- or comma-separated, normalised the way pip
 * compares them (PEP 503: lower case, runs of `-`, `_` and `.` as one `-`).
 */
export function parsePackageNames(input: string, text: string): string[] {
  const names = parseList(text).map((name) => {
    if (!/^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/.test(name)) {
      throw new InputError(
        input,
        `"${name}" is not a distribution name (like pyarrow or scikit-learn)`,
      );
    }
    return normalizePackageName(name);
  });
  return [...new Set(names)];
}

/** `KEY=VALUE` per line; a line without `=` is an error (docker would pass the env var). */
export function parseBuildArgs(input: string, text: string): Record<string, string> {
  const args: Record<string, string> = {};
  for (const line of parseList(text, /\n/)) {
    const at = line.indexOf('=');
    if (at <= 0) throw new InputError(input, `"${line}" is not KEY=VALUE`);
    args[line.slice(0, at).trim()] = line.slice(at + 1);
  }
  return args;
}

export function parseChoice<T extends string>(
  input: string,
  text: string,
  choices: readonly T[],
): T {
  const value = text.trim().toLowerCase();
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new InputError(input, `"${text}" is not one of ${choices.join(', ')}`);
}

export function parseDuration(input: string, text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(text);
  if (!match) throw new InputError(input, `"${text}" is not a duration; write 120s or 5m`);
  const factor = { ms: 1, s: 1000, m: 60_000 }[match[2] ?? 's'] ?? 1000;
  const ms = Math.round(Number(match[1]) * factor);
  if (ms <= 0) throw new InputError(input, `"${text}" is no time at all; write 120s or 5m`);
  return ms;
}

// Docker's reference grammar (distribution/reference): `[host[:port]/]path[:tag][@digest]`.
const DOMAIN = String.raw`(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::\d+)?)`;
const COMPONENT = String.raw`[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`;
const NAME = String.raw`(?:${DOMAIN}/)?${COMPONENT}(?:/${COMPONENT})*`;
const TAG = String.raw`[\w][\w.-]{0,127}`;
const DIGEST = String.raw`[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}`;
const TAGGED_NAME = new RegExp(`^${NAME}(?::${TAG})?$`);
const REFERENCE = new RegExp(`^${NAME}(?::${TAG})?(?:@${DIGEST})?$`);
const IMAGE_ID = /^(?:sha256:)?[0-9a-f]{12,64}$/;

/** A name to tag an image with: `repo[:tag]`, as `docker tag` takes it. */
export function parseTagName(input: string, text: string): string {
  const name = text.trim();
  if (!TAGGED_NAME.test(name) || name.length > 255) {
    throw new InputError(
      input,
      `"${text}" is not an image name to tag with; write it like ghcr.io/acme/app:slim (lowercase repository, tag of letters, digits, '.', '_', '-')`,
    );
  }
  return name;
}

/** An image in the engine: a reference (`app:pr-58`, `ghcr.io/acme/app@sha256:…`) or an id. */
export function parseImageReference(input: string, text: string): string {
  const reference = text.trim();
  if (IMAGE_ID.test(reference) || (REFERENCE.test(reference) && reference.length <= 255))
    return reference;
  throw new InputError(
    input,
    `"${text}" is neither an image name (app:pr-58, ghcr.io/acme/app:tag) nor an image id (sha256:…)`,
  );
}

/** `default`, `host`, `none`, `bridge`, or the name of a network the engine has. */
export function parseNetwork(input: string, text: string): string {
  const network = text.trim();
  if (/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(network)) return network;
  throw new InputError(
    input,
    `"${text}" is not a network mode; use default, host, none, or the name of an engine network`,
  );
}

/** Keep globs are matched against absolute paths in the image: one that cannot match is a mistake. */
export function parseKeepGlobs(input: string, text: string): string[] {
  const globs = parseList(text, /\n/);
  for (const glob of globs) {
    if (!glob.startsWith('/') && !glob.startsWith('*')) {
      throw new InputError(
        input,
        `"${glob}" never matches: globs are matched against absolute paths in the image; start it with / or * (e.g. */h5py/tests/*)`,
      );
    }
  }
  return globs;
}

/** A GitHub login (`octocat`, `github-actions[bot]`, `my-app[bot]`). */
export function parseLogin(input: string, text: string): string {
  const login = text.trim();
  if (/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$/.test(login)) return login;
  throw new InputError(
    input,
    `"${text}" is not a GitHub login; write it like octocat or my-app[bot] (a GitHub App's bot)`,
  );
}

/** `mode: post-comment` reads only these: no Dockerfile, no engine. */
export function readPostCommentInputs(read: InputReader): { commentAuthor?: string } {
  const author = read('comment-author').trim();
  return author ? { commentAuthor: parseLogin('comment-author', author) } : {};
}

/** What a run does: the two pipelines, or post the comment a fork's run left as an artifact. */
export function readMode(read: InputReader): Mode | 'post-comment' {
  return parseChoice('mode', read('mode') || 'slim', ['slim', 'measure', 'post-comment'] as const);
}

/** Reads one named input as text ('' when unset): core.getInput for the action, flags for the CLI. */
export type InputReader = (name: string) => string;

const DEFAULT_SMOKE_TIMEOUT = '300s';

/** All pipeline settings from named inputs (the action.yml names), validated in one place. */
export function readSettings(
  read: InputReader,
  defaults: { workspace: string; outputDir: string; cacheDir: string; runId: string },
): Settings {
  const context = path.resolve(defaults.workspace, read('context') || '.');
  const budgetText = read('budget');
  const growthText = read('max-growth');
  const budgetMetric = parseChoice('budget-metric', read('budget-metric') || 'uncompressed', [
    'uncompressed',
    'compressed',
  ] as const);
  const prune = parsePrune('prune', read('prune') || 'all');
  const file = read('file')
    ? path.resolve(defaults.workspace, read('file'))
    : path.join(context, 'Dockerfile');
  const target = read('target') || undefined;
  const image = read('image').trim();
  const tag = read('tag').trim();
  const commentAuthor = read('comment-author').trim();
  return {
    workspace: defaults.workspace,
    context,
    file,
    target,
    ...(image ? { image: parseImageReference('image', image) } : {}),
    buildArgs: parseBuildArgs('build-args', read('build-args')),
    network: parseNetwork('network', read('network') || 'default'),
    mode: parseChoice('mode', read('mode') || 'slim', ['slim', 'measure'] as const),
    smokeTest: read('smoke-test').trim() || 'auto',
    smokeTimeoutMs: parseDuration('smoke-timeout', read('smoke-timeout') || DEFAULT_SMOKE_TIMEOUT),
    strip: parseBoolean('strip', read('strip') || 'true'),
    prune,
    fix: parseRuleList('fix', read('fix') || 'all', FIX_RULES, 'fix rule'),
    keep: parseKeepGlobs('keep', read('keep')),
    keepPackages: parsePackageNames('keep-packages', read('keep-packages')),
    strict: parseBoolean('strict', read('strict') || 'false'),
    budget: budgetText ? parseSize('budget', budgetText) : undefined,
    budgetMetric,
    maxGrowth: growthText ? parseGrowth('max-growth', growthText) : undefined,
    outputDir: defaults.outputDir,
    cacheDir: defaults.cacheDir,
    tag: tag ? parseTagName('tag', tag) : undefined,
    commentKey: read('comment-key').trim() || defaultCommentKey(defaults.workspace, file, target),
    comment: parseChoice('comment', read('comment') || 'auto', [
      'auto',
      'always',
      'never',
      'artifact',
    ] as const),
    ...(commentAuthor ? { commentAuthor: parseLogin('comment-author', commentAuthor) } : {}),
    compressed:
      parseBoolean('compressed-size', read('compressed-size') || 'true') ||
      budgetMetric === 'compressed',
    runId: defaults.runId,
  };
}
