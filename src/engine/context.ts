/**
 * The build context tar, made by slimpy instead of dockerode so that `.dockerignore` is honoured
 * the way the docker CLI honours it (dockerode only filters top-level entries), and so slimpy can
 * add its own files (prune script, rewritten Dockerfile) without touching the user's workspace.
 *
 * Mirrors docker CLI `build` + moby `archive.TarWithOptions`: patterns read like
 * `ignorefile.ReadAll`, the Dockerfile and `.dockerignore` re-included like
 * `TrimBuildFilesFromExcludes`, excluded directories skipped unless an exception pattern starts
 * with the directory's path, symlinks stored as symlinks, hardlinks as hardlinks, uid/gid 0.
 * Deliberate differences: sockets, devices and fifos are left out (docker sends devices and fifos,
 * which no Python build context has); a file with mode 000 is sent as 0644 (tar-stream default).
 */
import { createReadStream } from 'node:fs';
import { lstat, readFile, readdir, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import dockerignore, { type Ignore } from '@balena/dockerignore';
import tar from 'tar-stream';

export interface ExtraFile {
  /** POSIX path relative to the context root; shadows a context file at the same path. */
  path: string;
  content: Buffer | string;
  mode?: number;
}

export interface ContextTarOptions {
  /** Dockerfile path, relative to the context directory or absolute; may name an extra file. */
  dockerfile: string;
  extraFiles?: ExtraFile[];
  /**
   * When set, every entry gets this mtime (a reproducible tar). By default context files keep
   * their own mtime, as docker sends them; build caches ignore mtimes either way.
   */
  mtime?: Date;
  /**
   * The builder that will read the tar (default `classic`, what `docker build` without BuildKit
   * sends). Through the API, BuildKit takes the tar as it is: a Dockerfile that `.dockerignore`
   * lists is still in the context (the daemon reads it from there), so `COPY .` copies it too,
   * where buildx would have left it out.
   */
  builder?: 'classic' | 'buildkit';
}

export interface ContextTar {
  stream: NodeJS.ReadableStream;
  /** Sorted POSIX paths of the regular files, symlinks and hardlinks in the tar. */
  files: string[];
  /** The Dockerfile's path inside the tar: pass it as the build's `dockerfile` option. */
  dockerfileInContext: string;
}

/** Where a Dockerfile from outside the context goes (slimpy's own directory, like `.git`). */
export const GENERATED_DOCKERFILE = '.slimpy/Dockerfile';
type TarHeader = Partial<tar.Header> & { name: string };
type TarSink = ReturnType<tar.Pack['entry']>;
/** Fixed mtime of the entries slimpy generates, so their headers never change between runs. */
const GENERATED_MTIME = new Date(0);
const DOCKERIGNORE = '.dockerignore';
// A CommonJS module whose factory is also its `default`; case-sensitive like docker on Linux.
const matcherFor = (patterns: string[]): Ignore =>
  dockerignore.default({ ignorecase: false }).add(patterns);

/** True when `.dockerignore` patterns (parsed) leave `relativePath` out of the build context. */
export function ignoredByDockerignore(patterns: string[], relativePath: string): boolean {
  return matcherFor(patterns).ignores(relativePath);
}

export class ContextError extends Error {
  override name = 'ContextError';
}

type Entry =
  | { kind: 'dir'; name: string; mode: number; mtime: Date }
  | { kind: 'file'; name: string; mode: number; mtime: Date; size: number; source: string }
  | { kind: 'symlink'; name: string; mode: number; mtime: Date; target: string }
  | { kind: 'hardlink'; name: string; mode: number; mtime: Date; target: string }
  | { kind: 'generated'; name: string; mode: number; mtime: Date; content: Buffer };

/**
 * Parses `.dockerignore` text into cleaned patterns, as docker's `ignorefile.ReadAll` does:
 * BOM and `#` comment lines dropped, whitespace trimmed, paths cleaned, leading `/` removed,
 * `!` kept in front.
 */
export function parseDockerignore(text: string): string[] {
  const patterns: string[] = [];
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = index === 0 ? raw.replace(/^\uFEFF/, '') : raw;
    if (line.startsWith('#')) continue;
    let pattern = line.trim();
    if (pattern === '') continue;
    const invert = pattern.startsWith('!');
    if (invert) pattern = pattern.slice(1).trim();
    if (pattern.length > 0) {
      pattern = cleanPosix(pattern);
      if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    }
    patterns.push(invert ? `!${pattern}` : pattern);
  }
  return patterns;
}

/** Go's `filepath.Clean` for POSIX paths. */
function cleanPosix(p: string): string {
  const normal = path.posix.normalize(p);
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
}

export async function createContextTar(
  contextDir: string,
  options: ContextTarOptions,
): Promise<ContextTar> {
  const root = await realpath(contextDir).catch((error: unknown) => {
    throw new ContextError(`build context ${contextDir} is not readable: ${String(error)}`);
  });
  const classic = (options.builder ?? 'classic') === 'classic';
  const extras = (options.extraFiles ?? []).map((extra) => ({
    ...extra,
    path: relativeTarPath(extra.path),
  }));
  const extraPaths = new Set(extras.map((extra) => extra.path));
  const dockerfile = await locateDockerfile(root, options.dockerfile, extraPaths);
  const dockerfileInContext = dockerfile.inContext
    ? dockerfile.relative
    : freeName(GENERATED_DOCKERFILE, extraPaths);

  const ignoreText = await readFile(path.join(root, DOCKERIGNORE), 'utf8').catch(() => undefined);
  const patterns = withBuildFilesKept(parseDockerignore(ignoreText ?? ''), {
    dockerfile: dockerfile.inContext && !dockerfile.generated ? dockerfile.relative : undefined,
    dockerignore: classic,
  });
  // Paths slimpy writes itself win over the user's files of the same name.
  const shadowed = new Set(extraPaths);
  if (!dockerfile.inContext) shadowed.add(dockerfileInContext);
  const entries = await walkContext(root, patterns, shadowed);

  const generated = extras.map((extra) =>
    generatedFile(extra.path, Buffer.from(extra.content), extra.mode ?? 0o644),
  );
  if (!dockerfile.inContext) {
    const text = await readFile(dockerfile.absolute);
    generated.unshift(generatedFile(dockerfileInContext, text, 0o644));
  }
  if (dockerfile.generated && classic) {
    hideGeneratedDockerfile(entries, generated, ignoreText, dockerfileInContext);
  }
  const all = [...entries, ...parentDirs(entries, generated), ...generated];
  if (options.mtime) for (const entry of all) entry.mtime = options.mtime;

  const files = all
    .filter((entry) => entry.kind !== 'dir')
    .map((entry) => entry.name)
    .sort(compareBytes);
  return { stream: streamEntries(all), files, dockerfileInContext };
}

function freeName(wanted: string, taken: Set<string>): string {
  let name = wanted;
  for (let n = 1; taken.has(name); n++) name = `${wanted}.${n}`;
  return name;
}

function relativeTarPath(p: string): string {
  const clean = cleanPosix(p.replace(/^(\.\/|\/)+/, ''));
  if (clean === '.' || clean === '..' || clean.startsWith('../')) {
    throw new ContextError(`extra file path ${p} must stay inside the build context`);
  }
  return clean;
}

interface DockerfileLocation {
  absolute: string;
  /** POSIX path relative to the context root (meaningful when inContext). */
  relative: string;
  inContext: boolean;
  /** Slimpy put it there (from outside the context, or an extra file): hide it from `COPY .`. */
  generated: boolean;
}

async function locateDockerfile(
  root: string,
  dockerfile: string,
  extraPaths: Set<string>,
): Promise<DockerfileLocation> {
  if (!path.isAbsolute(dockerfile)) {
    const asExtra = cleanPosix(dockerfile.replace(/^(\.\/)+/, ''));
    if (extraPaths.has(asExtra)) {
      return { absolute: '', relative: asExtra, inContext: true, generated: true };
    }
  }
  const given = path.resolve(root, dockerfile);
  // Like the CLI, resolve symlinks first: a Dockerfile linked from outside counts as outside.
  const absolute = await realpath(given).catch(() => {
    throw new ContextError(`Dockerfile ${dockerfile} not found (looked at ${given})`);
  });
  const relative = path.relative(root, absolute);
  const inContext = relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
  return {
    absolute,
    relative: relative.split(path.sep).join('/'),
    inContext,
    generated: !inContext,
  };
}

/**
 * docker CLI `TrimBuildFilesFromExcludes`: the builder reads both files from the context, so they
 * go even when ignored (the classic builder then drops them again). BuildKit never reads
 * `.dockerignore` from a context tar, so for it an ignored one stays out, as with buildx.
 */
function withBuildFilesKept(
  patterns: string[],
  keep: { dockerfile: string | undefined; dockerignore: boolean },
): string[] {
  const matcher = matcherFor(patterns);
  const kept = [...patterns];
  if (keep.dockerignore && matcher.ignores(DOCKERIGNORE)) kept.push(`!${DOCKERIGNORE}`);
  const { dockerfile } = keep;
  if (dockerfile !== undefined && matcher.ignores(dockerfile)) kept.push(`!${dockerfile}`);
  return kept;
}

/**
 * moby `TarWithOptions`' walk, in lexical order: an excluded directory is entered (without an
 * entry of its own) only when some exception pattern starts with its path.
 */
async function walkContext(
  root: string,
  patterns: string[],
  shadowed: Set<string>,
): Promise<Entry[]> {
  const matcher = matcherFor(patterns);
  const exceptions = patterns.filter((p) => p.startsWith('!')).map((p) => `${p.slice(1)}/`);
  const entries: Entry[] = [];
  const seenInodes = new Map<string, string>();

  const visit = async (relDir: string): Promise<void> => {
    const names = (await readdir(path.join(root, relDir))).sort(compareBytes);
    for (const name of names) {
      const rel = relDir === '' ? name : `${relDir}/${name}`;
      if (shadowed.has(rel)) continue;
      const absolute = path.join(root, rel);
      const stat = await lstat(absolute);
      if (matcher.ignores(rel)) {
        if (stat.isDirectory() && exceptions.some((e) => e.startsWith(`${rel}/`))) {
          await visit(rel);
        }
        continue;
      }
      const mode = stat.mode & 0o7777;
      const mtime = stat.mtime;
      if (stat.isDirectory()) {
        entries.push({ kind: 'dir', name: rel, mode, mtime });
        await visit(rel);
      } else if (stat.isSymbolicLink()) {
        entries.push({ kind: 'symlink', name: rel, mode, mtime, target: await readlink(absolute) });
      } else if (stat.isFile()) {
        const inode = `${stat.dev}:${stat.ino}`;
        const first = stat.nlink > 1 ? seenInodes.get(inode) : undefined;
        if (first !== undefined) {
          entries.push({ kind: 'hardlink', name: rel, mode, mtime, target: first });
        } else {
          if (stat.nlink > 1) seenInodes.set(inode, rel);
          entries.push({ kind: 'file', name: rel, mode, mtime, size: stat.size, source: absolute });
        }
      }
    }
  };
  await visit('');
  return entries;
}

function generatedFile(name: string, content: Buffer, mode: number): Entry {
  return { kind: 'generated', name, mode, mtime: GENERATED_MTIME, content };
}

/**
 * What the docker CLI does for a Dockerfile from outside the context: list it in the `.dockerignore`
 * sent along, so the builder drops it after reading and `COPY . /app` does not pick it up.
 */
function hideGeneratedDockerfile(
  entries: Entry[],
  generated: Entry[],
  ignoreText: string | undefined,
  dockerfile: string,
): void {
  const index = entries.findIndex((entry) => entry.name === DOCKERIGNORE);
  const existing = entries[index];
  const text = `${ignoreText ?? DOCKERIGNORE}\n${dockerfile}\n`;
  const replacement = generatedFile(DOCKERIGNORE, Buffer.from(text), existing?.mode ?? 0o600);
  if (existing) entries.splice(index, 1);
  generated.push(replacement);
}

/** Directory entries for generated files whose parents the context does not have. */
function parentDirs(entries: Entry[], generated: Entry[]): Entry[] {
  const present = new Set(entries.filter((e) => e.kind === 'dir').map((e) => e.name));
  const dirs: Entry[] = [];
  for (const file of generated) {
    const parts = file.name.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (present.has(dir)) continue;
      present.add(dir);
      dirs.push({ kind: 'dir', name: dir, mode: 0o755, mtime: GENERATED_MTIME });
    }
  }
  return dirs;
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function streamEntries(entries: Entry[]): NodeJS.ReadableStream {
  const pack = tar.pack();
  const fill = async (): Promise<void> => {
    for (const entry of entries) await packEntry(pack, entry);
    pack.finalize();
  };
  fill().catch((error: unknown) =>
    pack.destroy(error instanceof Error ? error : new Error(String(error))),
  );
  return Readable.from(pack, { objectMode: false });
}

async function packEntry(pack: tar.Pack, entry: Entry): Promise<void> {
  const base = { name: entry.name, mode: entry.mode, mtime: entry.mtime, uid: 0, gid: 0 };
  switch (entry.kind) {
    case 'dir':
      return addEntry(pack, { ...base, type: 'directory' });
    case 'symlink':
      return addEntry(pack, { ...base, type: 'symlink', linkname: entry.target });
    case 'hardlink':
      return addEntry(pack, { ...base, type: 'link', linkname: entry.target });
    case 'generated':
      return addEntry(pack, { ...base, type: 'file', size: entry.content.length }, entry.content);
    case 'file':
      return addFile(pack, { ...base, type: 'file', size: entry.size }, entry.source);
  }
}

function addEntry(pack: tar.Pack, header: TarHeader, content?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (error?: Error | null): void => (error ? reject(error) : resolve());
    if (content) pack.entry(header, content, settle);
    else pack.entry(header, settle);
  });
}

async function addFile(pack: tar.Pack, header: TarHeader, source: string): Promise<void> {
  let settle: (error?: Error | null) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    settle = (error) => (error ? reject(error) : resolve());
  });
  const sink = pack.entry(header, settle);
  try {
    await copyFile(source, sink, header);
  } catch (error) {
    sink.destroy(error instanceof Error ? error : new Error(String(error)));
    await done.catch(() => undefined);
    throw error;
  }
  sink.end(undefined);
  await done;
}

async function copyFile(source: string, sink: TarSink, header: TarHeader): Promise<void> {
  const expected = header.size ?? 0;
  let written = 0;
  for await (const chunk of createReadStream(source)) {
    const buffer = chunk as Buffer;
    written += buffer.length;
    if (written > expected) break;
    if (!sink.write(buffer)) await drained(sink);
  }
  if (written !== expected) {
    throw new ContextError(
      `${header.name} changed while the build context was being sent (${expected} bytes when ` +
        `listed, ${written} when read); run the build again once nothing writes to the context`,
    );
  }
}

/** Resolves when the entry wants more data; rejects when the tar was abandoned by its reader. */
function drained(sink: TarSink): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      sink.off('close', onClose);
      resolve();
    };
    const onClose = (): void => {
      sink.off('drain', onDrain);
      reject(new ContextError('the build context tar was closed before it was fully sent'));
    };
    sink.once('drain', onDrain);
    sink.once('close', onClose);
  });
}
