/**
 * The JSON manifest that `prune.sh --manifest FILE` writes: what was stripped and removed, per
 * environment and category. `parseManifest` checks its shape so the rest of slimpy works on
 * typed values.
 */
import { KNOWN_CATEGORIES, isPruneCategory, type PruneCategory } from '../model/categories.js';

export const MANIFEST_VERSION = 1;

/** `done`: strip ran; `skipped`: it could not (no strip, no way to install it); `disabled`: --no-strip. */
export type StripStatus = 'done' | 'skipped' | 'disabled';

export interface StrippedFile {
  path: string;
  before: number;
  after: number;
}

export interface StripResult {
  status: StripStatus;
  /** Why strip was skipped or disabled; empty when it ran. */
  reason: string;
  /** ELF files strip looked at (stripped, already stripped, or kept as they were). */
  files: number;
  bytesBefore: number;
  bytesAfter: number;
  /** ELF files whose original bytes were kept because the stripped copy failed a check. */
  restored: string[];
  /** Up to 20 files that saved the most, largest saving first. */
  top: StrippedFile[];
}

export interface CategoryResult {
  /** Regular files removed. */
  files: number;
  /** Their apparent size in bytes. */
  bytes: number;
}

export interface PruneEnvironment {
  /** A site-packages or dist-packages directory. */
  path: string;
  /** True when it belongs to a virtual environment (pyvenv.cfg). */
  venv: boolean;
}

/** A path one package exception kept in an environment (prune.sh's `add_exception`). */
export interface ManifestException {
  /** The environment (site-packages directory). */
  site: string;
  /** A table id (`torch-inductor`) or a detection (`lazy-stubs`, `nspkg`, `pkg-resources`). */
  id: string;
  category: PruneCategory;
  /** Glob relative to `site`; a directory keeps everything under it. */
  path: string;
  /** `name version` of the distribution, or the file that made the detection. */
  detail: string;
}

export interface PruneManifest {
  version: typeof MANIFEST_VERSION;
  roots: string[];
  environments: PruneEnvironment[];
  /** The categories that were enabled. */
  prune: PruneCategory[];
  strip: StripResult;
  categories: Record<PruneCategory, CategoryResult>;
  /** What the package exceptions kept (absent from manifests of older scripts: empty). */
  exceptions: ManifestException[];
  warnings: string[];
}

export class ManifestError extends Error {
  constructor(message: string) {
    super(`prune manifest: ${message} (was it written by this version of slimpy's prune.sh?)`);
    this.name = 'ManifestError';
  }
}

const STRIP_STATUSES: readonly string[] = ['done', 'skipped', 'disabled'];

type Json = Record<string, unknown>;

function object(value: unknown, where: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ManifestError(`${where} is not an object`);
  }
  return value as Json;
}

function array(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw new ManifestError(`${where} is not an array`);
  return value;
}

function string(value: unknown, where: string): string {
  if (typeof value !== 'string') throw new ManifestError(`${where} is not a string`);
  return value;
}

function count(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ManifestError(`${where} is not a non-negative integer`);
  }
  return value;
}

function strings(value: unknown, where: string): string[] {
  return array(value, where).map((item, i) => string(item, `${where}[${i}]`));
}

function parseEnvironment(value: unknown, where: string): PruneEnvironment {
  const env = object(value, where);
  if (typeof env.venv !== 'boolean') throw new ManifestError(`${where}.venv is not a boolean`);
  return { path: string(env.path, `${where}.path`), venv: env.venv };
}

function parseStrip(value: unknown): StripResult {
  const strip = object(value, 'strip');
  const status = string(strip.status, 'strip.status');
  if (!STRIP_STATUSES.includes(status)) {
    throw new ManifestError(`strip.status "${status}" is not one of ${STRIP_STATUSES.join(', ')}`);
  }
  const result: StripResult = {
    status: status as StripStatus,
    reason: string(strip.reason, 'strip.reason'),
    files: count(strip.files, 'strip.files'),
    bytesBefore: count(strip.bytesBefore, 'strip.bytesBefore'),
    bytesAfter: count(strip.bytesAfter, 'strip.bytesAfter'),
    restored: strings(strip.restored, 'strip.restored'),
    top: array(strip.top, 'strip.top').map((item, i) => {
      const file = object(item, `strip.top[${i}]`);
      return {
        path: string(file.path, `strip.top[${i}].path`),
        before: count(file.before, `strip.top[${i}].before`),
        after: count(file.after, `strip.top[${i}].after`),
      };
    }),
  };
  if (result.bytesAfter > result.bytesBefore) {
    throw new ManifestError('strip.bytesAfter is larger than strip.bytesBefore');
  }
  return result;
}

function parseCategories(value: unknown): Record<PruneCategory, CategoryResult> {
  const categories = object(value, 'categories');
  for (const name of Object.keys(categories)) {
    if (!isPruneCategory(name)) throw new ManifestError(`unknown category "${name}"`);
  }
  const result = {} as Record<PruneCategory, CategoryResult>;
  for (const name of KNOWN_CATEGORIES) {
    const entry = object(categories[name], `categories.${name}`);
    result[name] = {
      files: count(entry.files, `categories.${name}.files`),
      bytes: count(entry.bytes, `categories.${name}.bytes`),
    };
  }
  return result;
}

function parseEnabled(value: unknown): PruneCategory[] {
  return strings(value, 'prune').map((name) => {
    if (!isPruneCategory(name)) throw new ManifestError(`unknown category "${name}" in prune`);
    return name;
  });
}

function parseException(value: unknown, where: string): ManifestException {
  const entry = object(value, where);
  const category = string(entry.category, `${where}.category`);
  if (!isPruneCategory(category))
    throw new ManifestError(`${where}.category "${category}" is unknown`);
  return {
    site: string(entry.site, `${where}.site`),
    id: string(entry.id, `${where}.id`),
    category,
    path: string(entry.path, `${where}.path`),
    detail: string(entry.detail, `${where}.detail`),
  };
}

/** Parses and checks the manifest text; throws a ManifestError naming the first bad field. */
export function parseManifest(json: string): PruneManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    throw new ManifestError(
      `not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const manifest = object(raw, 'the manifest');
  if (manifest.version !== MANIFEST_VERSION) {
    throw new ManifestError(
      `version ${JSON.stringify(manifest.version)} is not ${MANIFEST_VERSION}`,
    );
  }
  return {
    version: MANIFEST_VERSION,
    roots: strings(manifest.roots, 'roots'),
    environments: array(manifest.environments, 'environments').map((env, i) =>
      parseEnvironment(env, `environments[${i}]`),
    ),
    prune: parseEnabled(manifest.prune),
    strip: parseStrip(manifest.strip),
    categories: parseCategories(manifest.categories),
    exceptions: array(manifest.exceptions ?? [], 'exceptions').map((entry, i) =>
      parseException(entry, `exceptions[${i}]`),
    ),
    warnings: strings(manifest.warnings, 'warnings'),
  };
}

/** Bytes removed by the prune categories. */
export function prunedBytes(manifest: PruneManifest): number {
  return KNOWN_CATEGORIES.reduce((sum, name) => sum + manifest.categories[name].bytes, 0);
}

/** Bytes saved in all: removed files plus what strip took off. */
export function savedBytes(manifest: PruneManifest): number {
  return prunedBytes(manifest) + manifest.strip.bytesBefore - manifest.strip.bytesAfter;
}
