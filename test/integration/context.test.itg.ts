/**
 * The build context slimpy tars itself must reach the builder exactly as the docker CLI's would:
 * same files, types, modes and link targets, for a `.dockerignore` full of docker's corner cases.
 */
import { execFileSync } from 'node:child_process';
import { chmod, link, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContextError, createContextTar, parseDockerignore } from '../../src/engine/context.js';
import { baseImage, engineMissing, testDocker } from '../support/engine.js';

const LABEL = 'dev.slimpy.test';
const OWNER = `context-${process.pid}`;

const DOCKERIGNORE = `# comments and blank lines are skipped

**/*.log
!keep/important.log
ignored-dir
!ignored-dir/wanted.txt
/secrets/
./build
*.tmp
docs/**/draft*
!docs/**/draft-keep.md
vendor
!**/LICENSE
CaseSensitive.txt
Dockerfile
.dockerignore
`;

type Node = string | { symlink: string } | { hardlink: string };
/** path -> content, a symlink target or the path a hardlink shares its inode with. */
const TREE: Record<string, Node> = {
  '.dockerignore': DOCKERIGNORE,
  'app/main.py': 'print("hello")\n',
  'app/hard.py': { hardlink: 'app/main.py' },
  'app/sub/deep/x.py': 'x = 1\n',
  'app/debug.log': 'ignored: **/*.log at depth 1\n',
  'app/sub/trace.log': 'ignored: **/*.log at depth 2\n',
  'keep/important.log': 're-included by an exception\n',
  'keep/other.log': 'ignored\n',
  'top.log': 'ignored: ** matches zero directories\n',
  'ignored-dir/junk.txt': 'ignored with its directory\n',
  'ignored-dir/wanted.txt': 're-included from inside an ignored directory\n',
  'ignored-dir/nested/also.txt': 'ignored\n',
  'secrets/key.pem': 'ignored via a leading-slash pattern\n',
  'build/out.bin': 'ignored via a ./ pattern\n',
  'scratch.tmp': 'ignored\n',
  'docs/readme.md': 'kept\n',
  'docs/a/b/draft1.md': 'ignored\n',
  'docs/a/draft-keep.md': 'kept by a ** exception\n',
  'vendor/LICENSE': 'not sent: docker never enters vendor/, the exception does not start with it\n',
  LICENSE: 'kept\n',
  'CaseSensitive.txt': 'ignored\n',
  'casesensitive.txt': 'kept: patterns are case-sensitive\n',
  '.env': 'A=1\n',
  '.config/settings.toml': 'x = 1\n',
  'file with spaces.txt': 'spaces\n',
  'script.sh': '#!/bin/sh\necho hi\n',
  'private.txt': 'mode 0600\n',
  'link-to-main': { symlink: 'app/main.py' },
  'dangling-link': { symlink: 'does/not/exist' },
};
const MODES: Record<string, number> = { 'script.sh': 0o755, 'private.txt': 0o600 };

async function writeTree(root: string, dockerfile: string): Promise<void> {
  const tree: Record<string, Node> = { ...TREE, Dockerfile: dockerfile };
  for (const [rel, content] of Object.entries(tree)) {
    const target = path.join(root, rel);
    await mkdir(path.dirname(target), { recursive: true });
    if (typeof content === 'string') await writeFile(target, content);
    else if ('symlink' in content) await symlink(content.symlink, target);
    else await link(path.join(root, content.hardlink), target);
  }
  for (const [rel, mode] of Object.entries(MODES)) await chmod(path.join(root, rel), mode);
  await chmod(path.join(root, 'ignored-dir'), 0o750);
}

/** Builds a context stream through the API; fails on the error events followProgress hides. */
async function buildFromTar(
  docker: Docker,
  tar: NodeJS.ReadableStream,
  options: { dockerfile: string; tag: string; version?: '1' | '2' },
): Promise<void> {
  const stream = await docker.buildImage(tar, {
    t: options.tag,
    dockerfile: options.dockerfile,
    labels: { [LABEL]: OWNER },
    networkmode: options.version === '2' ? 'host' : 'none',
    version: options.version ?? '1',
    rm: true,
    forcerm: true,
  });
  const events = await new Promise<Array<Record<string, unknown>>>((resolve, reject) =>
    docker.modem.followProgress(
      stream,
      (error: Error | null, output: Array<Record<string, unknown>>) =>
        error ? reject(error) : resolve(output),
    ),
  );
  const failure = events.find((event) => event.error !== undefined || event.errorDetail);
  if (failure) throw new Error(`build of ${options.tag} failed: ${JSON.stringify(failure)}`);
}

/** `find /ctx` in a container without network: type, mode, owner, size, path, link target. */
function listCtx(image: string): string[] {
  const output = execFileSync(
    'docker',
    [
      'run',
      '--rm',
      '--network',
      'none',
      '--label',
      `${LABEL}=${OWNER}`,
      image,
      'find',
      '/ctx',
      '-mindepth',
      '1',
      '-printf',
      '%y %m %U:%G %s %n %P -> %l\\n',
    ],
    { encoding: 'utf8' },
  );
  return output.split('\n').filter(Boolean).sort();
}

function filesOf(listing: string[]): string[] {
  return listing
    .filter((line) => !line.startsWith('d '))
    .map((line) => line.replace(/^(\S+ ){5}/, '').replace(/ -> .*$/, ''))
    .sort();
}

async function consume(stream: NodeJS.ReadableStream): Promise<number> {
  let bytes = 0;
  for await (const chunk of stream) bytes += chunk.length;
  return bytes;
}

const EPOCH = new Date(0);

async function tarBytes(context: { stream: NodeJS.ReadableStream }): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of context.stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

async function tarEntries(
  stream: NodeJS.ReadableStream,
): Promise<Array<{ name: string; type: string; body: string }>> {
  const entries: Array<{ name: string; type: string; body: string }> = [];
  const extract = tar.extract();
  stream.pipe(extract as unknown as NodeJS.WritableStream);
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry as AsyncIterable<Buffer>) chunks.push(chunk);
    entries.push({
      name: entry.header.name,
      type: entry.header.type,
      body: Buffer.concat(chunks).toString(),
    });
  }
  return entries;
}

describe('parseDockerignore', () => {
  it('reads patterns like docker: comments, BOM, whitespace, cleaning, leading slash', () => {
    expect(parseDockerignore('\uFEFF# c\n  /a/b/  \n!./c/../d\n\n! /e\nf/**/g\r\n')).toEqual([
      'a/b',
      '!d',
      '!e',
      'f/**/g',
    ]);
  });
});

describe('createContextTar without an engine', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'slimpy-ctx-'));
    await writeTree(root, 'FROM scratch\n');
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('lists what it sends, Dockerfile and .dockerignore included although ignored', async () => {
    const context = await createContextTar(root, { dockerfile: 'Dockerfile' });
    await consume(context.stream);
    expect(context.dockerfileInContext).toBe('Dockerfile');
    expect(context.files).toEqual([
      '.config/settings.toml',
      '.dockerignore',
      '.env',
      'Dockerfile',
      'LICENSE',
      'app/hard.py',
      'app/main.py',
      'app/sub/deep/x.py',
      'casesensitive.txt',
      'dangling-link',
      'docs/a/draft-keep.md',
      'docs/readme.md',
      'file with spaces.txt',
      'ignored-dir/wanted.txt',
      'keep/important.log',
      'link-to-main',
      'private.txt',
      'script.sh',
    ]);
  });

  it('makes byte-identical tars when told to normalise mtimes', async () => {
    const first = await tarBytes(
      await createContextTar(root, { dockerfile: 'Dockerfile', mtime: EPOCH }),
    );
    await utimes(path.join(root, 'app/main.py'), new Date(), new Date(Date.now() + 60_000));
    const second = await tarBytes(
      await createContextTar(root, { dockerfile: 'Dockerfile', mtime: EPOCH }),
    );
    expect(second.equals(first)).toBe(true);
  });

  it('lets an extra file replace the context file at its path', async () => {
    const context = await createContextTar(root, {
      dockerfile: 'Dockerfile',
      extraFiles: [{ path: './app/main.py', content: 'replaced' }],
    });
    const entries = await tarEntries(context.stream);
    expect(entries.filter((entry) => entry.name === 'app/main.py')).toEqual([
      { name: 'app/main.py', type: 'file', body: 'replaced' },
    ]);
  });

  it('says which Dockerfile it could not find', async () => {
    await expect(createContextTar(root, { dockerfile: 'nope/Dockerfile' })).rejects.toThrow(
      ContextError,
    );
  });
});

describe.skipIf(engineMissing())('createContextTar against the docker CLI', () => {
  const docker = testDocker();
  let work: string;
  let root: string;
  let cliListing: string[];

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'slimpy-ctx-itg-'));
    root = path.join(work, 'context');
    await writeTree(root, `FROM ${baseImage()}\nCOPY . /ctx/\n`);
    execFileSync(
      'docker',
      [
        'build',
        '-q',
        '--network',
        'none',
        '--label',
        `${LABEL}=${OWNER}`,
        '-t',
        `slimpy-test-ctx-cli:${process.pid}`,
        root,
      ],
      { env: { ...process.env, DOCKER_BUILDKIT: '0' }, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    cliListing = listCtx(`slimpy-test-ctx-cli:${process.pid}`);
  });

  afterAll(async () => {
    const images = await docker.listImages({ filters: { label: [`${LABEL}=${OWNER}`] } });
    for (const image of images) await docker.getImage(image.Id).remove({ force: true });
    await rm(work, { recursive: true, force: true });
  });

  it('sends the same files as `docker build` (classic builder)', async () => {
    const context = await createContextTar(root, { dockerfile: 'Dockerfile' });
    const tag = `slimpy-test-ctx-classic:${process.pid}`;
    await buildFromTar(docker, context.stream, { dockerfile: context.dockerfileInContext, tag });
    const listing = listCtx(tag);
    expect(listing).toEqual(cliListing);
    // The classic builder drops the Dockerfile and .dockerignore after reading them when the
    // .dockerignore lists them; everything else we sent is in the image.
    const kept = context.files.filter((f) => f !== 'Dockerfile' && f !== '.dockerignore');
    expect(filesOf(listing)).toEqual(kept);
  });

  it('sends BuildKit the same files, but for the Dockerfile it must read from the tar', async () => {
    const context = await createContextTar(root, { dockerfile: 'Dockerfile', builder: 'buildkit' });
    const tag = `slimpy-test-ctx-buildkit:${process.pid}`;
    await buildFromTar(docker, context.stream, {
      dockerfile: context.dockerfileInContext,
      tag,
      version: '2',
    });
    const listing = listCtx(tag);
    const dockerfileLine = listing.find((line) => / Dockerfile -> $/.test(line));
    expect(dockerfileLine).toBeDefined();
    expect(listing.filter((line) => line !== dockerfileLine)).toEqual(cliListing);
    expect(filesOf(listing)).toEqual(context.files);
  });

  it.each(['outside the context', 'an extra file'])(
    'uses a Dockerfile from %s and hides it from COPY, while extra files stay',
    async (where) => {
      const text = `FROM ${baseImage()}\nCOPY . /ctx/\nLABEL from="${where}"\n`;
      const prune = { path: '.slimpy/prune.sh', content: '#!/bin/sh\nexit 0\n', mode: 0o755 };
      let context;
      if (where === 'an extra file') {
        const dockerfile = { path: '.slimpy/Dockerfile', content: text };
        context = await createContextTar(root, {
          dockerfile: dockerfile.path,
          extraFiles: [prune, dockerfile],
        });
      } else {
        const outside = path.join(work, 'Dockerfile.outside');
        await writeFile(outside, text);
        context = await createContextTar(root, { dockerfile: outside, extraFiles: [prune] });
      }
      expect(context.dockerfileInContext).toBe('.slimpy/Dockerfile');
      expect(context.files).toContain('.slimpy/prune.sh');
      const tag = `slimpy-test-ctx-generated:${process.pid}`;
      await buildFromTar(docker, context.stream, { dockerfile: context.dockerfileInContext, tag });
      const info = await docker.getImage(tag).inspect();
      expect(info.Config.Labels).toMatchObject({ from: where });
      const listing = listCtx(tag);
      expect(listing).toContain(`f 755 0:0 ${prune.content.length} 1 .slimpy/prune.sh -> `);
      expect(filesOf(listing)).not.toContain('.slimpy/Dockerfile');
    },
  );
});
