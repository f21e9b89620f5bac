/**
 * What the package exceptions keep in an image, read by the same prune.sh the build runs, in
 * `--explain` mode (it removes nothing), in a container of the original image. One script decides
 * in the build and explains in the report, so the two cannot disagree; and the answer does not
 * depend on the build log, which a cached prune step does not print again.
 */
import type Dockerode from 'dockerode';
import { ContainerStartError, runContainer } from '../engine/containers.js';
import type { PruneCategory } from '../model/categories.js';
import { parseManifest, type PruneManifest } from './manifest.js';
import { loadPruneScript } from './script.js';

export interface ExplainOptions {
  /** The original image. */
  image: string;
  /** Its Python environments (absolute paths), as `pythonEnvironments` finds them. */
  environments: string[];
  /** The categories the build prunes: an exception only matters for an enabled rule. */
  prune: readonly PruneCategory[];
  /** The `--keep` globs the build passes (what they keep, no exception kept). */
  keep?: readonly string[];
  timeoutMs: number;
  labels: Record<string, string>;
  signal?: AbortSignal;
}

export type Explained = { manifest: PruneManifest } | { unavailable: string };

const BEGIN = '<<<slimpy-manifest';
const END = 'slimpy-manifest>>>';

/** Writes the script (an argument) to a file, runs it, prints its manifest between markers. */
const WRAPPER = [
  'f=$(mktemp) && m=$(mktemp) || exit 97',
  'printf "%s" "$1" >"$f"',
  'shift',
  'sh "$f" --explain --no-strip --manifest "$m" "$@" >/dev/null 2>&1',
  `echo '${BEGIN}'`,
  'cat "$m"',
  `echo '${END}'`,
  'rm -f "$f" "$m"',
].join('\n');

export async function explainExceptions(
  docker: Dockerode,
  options: ExplainOptions,
): Promise<Explained> {
  if (options.environments.length === 0) return { unavailable: 'no Python environment found' };
  const prune = options.prune.length > 0 ? options.prune.join(',') : 'none';
  try {
    const run = await runContainer(docker, {
      image: options.image,
      entrypoint: [
        '/bin/sh',
        '-c',
        WRAPPER,
        'slimpy-explain',
        loadPruneScript(),
        '--prune',
        prune,
        ...(options.keep ?? []).flatMap((glob) => ['--keep', glob]),
        '--',
        ...options.environments,
      ],
      timeoutMs: options.timeoutMs,
      labels: options.labels,
      maxOutputBytes: 8 * 1024 * 1024,
      signal: options.signal,
    });
    return manifestFrom(run.output, run.timedOut);
  } catch (error) {
    if (error instanceof ContainerStartError && error.executableMissing) {
      return { unavailable: 'the image has no /bin/sh to run prune.sh --explain in' };
    }
    throw error;
  }
}

function manifestFrom(output: string, timedOut: boolean): Explained {
  const start = output.indexOf(`${BEGIN}\n`);
  const end = output.lastIndexOf(END);
  if (timedOut || start < 0 || end < start) {
    const why = timedOut ? 'it did not finish in time' : 'it printed no manifest';
    return { unavailable: `prune.sh --explain failed in the original image: ${why}` };
  }
  try {
    return { manifest: parseManifest(output.slice(start + BEGIN.length + 1, end)) };
  } catch (error) {
    return { unavailable: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * The Python environments of an image, from its file list: every site-packages or dist-packages
 * directory, and every other directory that holds `*.dist-info` directly (`pip install --target`).
 */
export function pythonEnvironments(files: Iterable<[string, { type: string }]>): string[] {
  const found = new Set<string>();
  for (const [path, entry] of files) {
    if (entry.type !== 'dir') continue;
    const name = path.slice(path.lastIndexOf('/') + 1);
    if (name === 'site-packages' || name === 'dist-packages') found.add(path);
    else if (name.endsWith('.dist-info')) found.add(path.slice(0, path.lastIndexOf('/')));
  }
  const sites = [...found].sort();
  // A site inside another (a vendored tree with its own dist-info) is the outer one's business.
  return sites.filter((site) => !sites.some((outer) => site.startsWith(`${outer}/`)));
}
