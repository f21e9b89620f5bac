/**
 * The prune tests' container: an image with the base Python, binutils and a virtual environment
 * holding the example's real wheels (test/fixtures/prune/Dockerfile), and one-shot containers of
 * it that run a shell script over files put in and hand back what it wrote under /tmp/out.
 */
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import tar from 'tar-stream';
import { baseImage, testDocker } from './engine.js';

export const PRUNE_LABELS = { 'dev.slimpy.test': 'prune' };
export const PRUNE_FIXTURES = fileURLToPath(new URL('../fixtures/prune/', import.meta.url));
const WHEELS = fileURLToPath(new URL('../../examples/pyarrow-duckdb/wheels/', import.meta.url));

/** A file to put in: from the host (`path`) or written out (`content`). */
export type TarEntry = { name: string; path: string } | { name: string; content: string };

/** A tar stream of the files, each under its name (dockerode's build and putArchive input). */
export function tarOf(entries: TarEntry[]): NodeJS.ReadableStream {
  const pack = tar.pack();
  void (async () => {
    for (const entry of entries) {
      if ('content' in entry) {
        pack.entry({ name: entry.name, mode: 0o755 }, entry.content);
        continue;
      }
      const { size, mode } = statSync(entry.path);
      await pipeline(createReadStream(entry.path), pack.entry({ name: entry.name, size, mode }));
    }
    pack.finalize();
  })().catch((error: unknown) =>
    pack.destroy(error instanceof Error ? error : new Error(String(error))),
  );
  return pack as unknown as NodeJS.ReadableStream;
}

/** The regular files of a tar stream (a container's /tmp/out), by name under out/. */
export async function readTar(stream: NodeJS.ReadableStream): Promise<Map<string, string>> {
  const extract = tar.extract();
  stream.pipe(extract);
  const files = new Map<string, string>();
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    if (entry.header.type === 'file') {
      files.set(entry.header.name.replace(/^out\//, ''), Buffer.concat(chunks).toString('utf8'));
    }
  }
  return files;
}

/** Docker's multiplexed log stream as text (stdout and stderr interleaved). */
export function logText(buffer: Buffer): string {
  const parts: Buffer[] = [];
  for (let i = 0; i + 8 <= buffer.length;) {
    const size = buffer.readUInt32BE(i + 4);
    parts.push(buffer.subarray(i + 8, i + 8 + size));
    i += 8 + size;
  }
  return Buffer.concat(parts).toString('utf8');
}

export async function buildPruneTestImage(docker: Docker, tag: string): Promise<void> {
  const fixtures = [{ name: 'Dockerfile', path: join(PRUNE_FIXTURES, 'Dockerfile') }];
  const wheels = readdirSync(WHEELS)
    .filter((name) => name.endsWith('.whl'))
    .map((name) => ({ name: `wheels/${name}`, path: join(WHEELS, name) }));
  if (wheels.length !== 4)
    throw new Error(`expected 4 wheels in ${WHEELS}: run scripts/fetch-wheels.sh`);
  const stream = await docker.buildImage(tarOf([...fixtures, ...wheels]), {
    t: tag,
    labels: PRUNE_LABELS,
    buildargs: { BASE_IMAGE: baseImage() },
    networkmode: 'host', // apt-get install binutils; the engine has no bridge network
    rm: true,
    forcerm: true,
  });
  const output = await new Promise<Array<{ error?: string; stream?: string }>>((resolve, reject) =>
    docker.modem.followProgress(stream, (error: Error | null, result: Array<{ error?: string }>) =>
      error ? reject(error) : resolve(result),
    ),
  );
  const failure = output.find((event) => event.error);
  if (failure) {
    throw new Error(
      `building the prune test image failed: ${failure.error}\n${output.map((e) => e.stream ?? '').join('')}`,
    );
  }
}

export interface ContainerRun {
  exitCode: number;
  logs: string;
  /** What the script left in /tmp/out, by name. */
  files: Map<string, string>;
}

/** Runs `sh -c SHELL` in a fresh container of IMAGE with `files` put in under /. */
export async function runInContainer(
  image: string,
  shell: string,
  files: TarEntry[],
  options: { user?: string; network?: 'none' | 'host' } = {},
): Promise<ContainerRun> {
  const docker = testDocker();
  const container = await docker.createContainer({
    Image: image,
    Cmd: ['sh', '-c', shell],
    Labels: PRUNE_LABELS,
    User: options.user ?? '0',
    HostConfig: { NetworkMode: options.network ?? 'none' },
  });
  try {
    await container.putArchive(tarOf(files), { path: '/' });
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    const logs = logText((await container.logs({ stdout: true, stderr: true })) as Buffer);
    let out = new Map<string, string>();
    try {
      out = await readTar(await container.getArchive({ path: '/tmp/out' }));
    } catch {
      // no /tmp/out: the callers' accessors say so, with the logs
    }
    return { exitCode: StatusCode, logs, files: out };
  } finally {
    await container.remove({ force: true });
  }
}
