/**
 * Files a container gets before it starts, and one file read back after it exits, through the
 * engine's archive endpoints: nothing is mounted from the machine running slimpy, so it works
 * the same with a remote engine, and the image is never changed.
 */
import type Dockerode from 'dockerode';
import tar from 'tar-stream';

/** A file put into a created container, by absolute path. */
export interface ContainerFile {
  path: string;
  content: string | Buffer;
  /** Default 0o644. */
  mode?: number;
}

/** What is read back of a collected file, at most (a trace of a big test is a few MB). */
const MAX_COLLECTED_BYTES = 256 * 1024 * 1024;

/**
 * Puts `files` into the created container. Their directories are made world-writable (sticky,
 * like /tmp) so that the container's user, whoever it is, can write results beside them.
 */
export async function putContainerFiles(
  container: Dockerode.Container,
  files: readonly ContainerFile[],
): Promise<void> {
  if (files.length === 0) return;
  await container.putArchive(await archiveOf(files), { path: '/' });
}

async function archiveOf(files: readonly ContainerFile[]): Promise<Buffer> {
  const pack = tar.pack();
  const directories = new Set<string>();
  for (const file of files) {
    const parts = relativeParts(file.path);
    for (let depth = 1; depth < parts.length; depth++) {
      const dir = parts.slice(0, depth).join('/');
      if (directories.has(dir)) continue;
      directories.add(dir);
      pack.entry({ name: `${dir}/`, type: 'directory', mode: 0o1777, uid: 0, gid: 0 });
    }
    pack.entry({ name: parts.join('/'), mode: file.mode ?? 0o644, uid: 0, gid: 0 }, file.content);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function relativeParts(path: string): string[] {
  const parts = path.split('/').filter((part) => part !== '' && part !== '.');
  if (!path.startsWith('/') || parts.length === 0 || parts.includes('..')) {
    throw new Error(`container file path must be absolute and plain, got ${JSON.stringify(path)}`);
  }
  return parts;
}

/** The content of one regular file of a (stopped) container; undefined when there is none. */
export async function readContainerFile(
  container: Dockerode.Container,
  path: string,
): Promise<Buffer | undefined> {
  let source: NodeJS.ReadableStream;
  try {
    source = await container.getArchive({ path });
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return undefined;
    throw error;
  }
  const extract = tar.extract();
  source.on('error', (error: Error) => extract.destroy(error));
  source.pipe(extract as unknown as NodeJS.WritableStream);
  try {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of entry as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > MAX_COLLECTED_BYTES) throw new Error(`${path} is larger than 256 MiB`);
        chunks.push(chunk);
      }
      if (entry.header.type === 'file') return Buffer.concat(chunks);
    }
    return undefined;
  } finally {
    (source as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
  }
}
