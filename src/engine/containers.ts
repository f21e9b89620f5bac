/**
 * Runs one short-lived container the way a smoke test should: no network, no capabilities,
 * bounded memory, processes and captured output, a hard deadline, and always removed afterwards.
 */
import type Dockerode from 'dockerode';
import { finished } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { putContainerFiles, readContainerFile, type ContainerFile } from './container-files.js';

const GiB = 1024 ** 3;
const DEFAULT_MEMORY_BYTES = 2 * GiB;
const DEFAULT_PIDS_LIMIT = 512;
const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024;
/** How long to wait for the attach stream to deliver its last bytes after the container exits. */
const OUTPUT_DRAIN_MS = 5_000;

export interface RunContainerOptions {
  image: string;
  /** Replaces the image's CMD; with `entrypoint` unset the image's ENTRYPOINT still applies. */
  cmd?: string[];
  /** Replaces the image's ENTRYPOINT. */
  entrypoint?: string[];
  /** Defaults to the image's USER. */
  user?: string;
  /** `KEY=value` entries merged over the image's ENV by the engine. */
  env?: string[];
  /** Wall-clock limit from the start request; the container is SIGKILLed when it passes. */
  timeoutMs: number;
  /** Memory limit, swap included (no swap on top); default 2 GiB. */
  memoryBytes?: number;
  /** Default 512. */
  pidsLimit?: number;
  /** Put on the container; pass `slimpyLabels(runId)` (plus anything else). */
  labels: Record<string, string>;
  /** Keep only the last N bytes of stdout+stderr; default 64 KiB. */
  maxOutputBytes?: number;
  /** Aborting kills and removes the container, then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Put into the container before it starts (see container-files.ts). */
  files?: readonly ContainerFile[];
  /** A file to read back after the process exits, into `collected`. */
  collect?: string;
}

export interface ContainerRun {
  /** The process's exit status; null when slimpy killed it (deadline or abort). */
  exitCode: number | null;
  timedOut: boolean;
  /** The last `maxOutputBytes` of stdout and stderr interleaved, decoded as UTF-8. */
  output: string;
  /** Bytes of output dropped from the front to keep within `maxOutputBytes`. */
  droppedBytes: number;
  /** Wall time from the start request to the exit, milliseconds. */
  durationMs: number;
  /** The `collect` file's content; undefined when it was not asked for or not there. */
  collected?: Buffer;
}

/**
 * The image is not on the engine when its container is created: slimpy built or measured it
 * earlier in the run, so something else removed it meanwhile (the engine's raw answer, `(HTTP code
 * 404) no such container - No such image`, names neither the image's part in the run nor a cause).
 */
export class ImageRemovedError extends Error {
  constructor(
    readonly image: string,
    readonly detail: string,
  ) {
    super(
      `Image ${image} is no longer on the engine (${detail}): something removed it while slimpy was ` +
        'using it, e.g. another cleanup on the same engine (`docker image prune`, `docker rmi`, a ' +
        'script removing images by label). Keep such cleanups off this engine while slimpy runs, and run it again.',
    );
    this.name = 'ImageRemovedError';
  }
}

/** The engine created the container but could not start its process (e.g. no such executable). */
export class ContainerStartError extends Error {
  /** True when the command's executable (or the shell) does not exist in the image. */
  readonly executableMissing: boolean;

  /** @param detail the engine's own message */
  constructor(
    image: string,
    executable: string,
    readonly detail: string,
  ) {
    super(
      `the engine could not start ${JSON.stringify(executable)} in ${image}: ${detail}. ` +
        'Check that the image contains that program (and /bin/sh for a shell command).',
    );
    this.name = 'ContainerStartError';
    this.executableMissing = /executable file not found|no such file or directory/i.test(detail);
  }
}

/**
 * Keeps the last `limit` bytes written to it, in memory bounded by `limit` plus one chunk, so a
 * command that prints gigabytes costs no more than one that prints a page.
 */
export class OutputTail {
  private chunks: Buffer[] = [];
  private held = 0;
  private dropped = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.held += chunk.length;
    let first = this.chunks[0];
    while (first && this.held - first.length >= this.limit) {
      this.chunks.shift();
      this.held -= first.length;
      this.dropped += first.length;
      first = this.chunks[0];
    }
  }

  get droppedBytes(): number {
    return this.dropped + Math.max(0, this.held - this.limit);
  }

  /** UTF-8 text of the kept bytes; invalid sequences become U+FFFD. */
  text(): string {
    let bytes = Buffer.concat(this.chunks, this.held);
    if (bytes.length > this.limit) bytes = bytes.subarray(bytes.length - this.limit);
    if (this.droppedBytes > 0) bytes = bytes.subarray(leadingContinuationBytes(bytes));
    return bytes.toString('utf8');
  }
}

/** A cut inside a multi-byte character leaves up to three continuation bytes: not worth a U+FFFD. */
function leadingContinuationBytes(bytes: Buffer): number {
  let n = 0;
  while (n < 3 && n < bytes.length && ((bytes[n] ?? 0) & 0xc0) === 0x80) n++;
  return n;
}

export function containerCreateOptions(
  options: RunContainerOptions,
): Dockerode.ContainerCreateOptions {
  const memory = options.memoryBytes ?? DEFAULT_MEMORY_BYTES;
  return {
    Image: options.image,
    ...(options.cmd ? { Cmd: options.cmd } : {}),
    ...(options.entrypoint ? { Entrypoint: options.entrypoint } : {}),
    ...(options.user !== undefined ? { User: options.user } : {}),
    ...(options.env ? { Env: options.env } : {}),
    Labels: options.labels,
    Tty: false,
    OpenStdin: false,
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    HostConfig: {
      // The engine may have no bridge at all, and a smoke test must not reach anything anyway.
      NetworkMode: 'none',
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Memory: memory,
      MemorySwap: memory,
      PidsLimit: options.pidsLimit ?? DEFAULT_PIDS_LIMIT,
      // Imports may write (bytecode, caches); the container is thrown away afterwards.
      ReadonlyRootfs: false,
      // We remove it ourselves, after the output is read and whatever happened.
      AutoRemove: false,
      // Output is read from the attach stream; the daemon keeping a copy on disk would let a
      // chatty command fill the host's disk.
      LogConfig: { Type: 'none', Config: {} },
    },
  };
}

/** Creates, starts, waits for and removes one container; see {@link RunContainerOptions}. */
export async function runContainer(
  docker: Dockerode,
  options: RunContainerOptions,
): Promise<ContainerRun> {
  options.signal?.throwIfAborted();
  const container = await createContainer(docker, options);
  let failed = true;
  try {
    await putContainerFiles(container, options.files ?? []);
    const run = await runCreated(docker, container, options);
    if (options.collect !== undefined)
      run.collected = await readContainerFile(container, options.collect);
    failed = false;
    return run;
  } finally {
    await removeContainer(container, failed);
  }
}

async function createContainer(
  docker: Dockerode,
  options: RunContainerOptions,
): Promise<Dockerode.Container> {
  try {
    return await docker.createContainer(containerCreateOptions(options));
  } catch (error) {
    // Container create answers 404 for one thing only: the image is not there.
    if ((error as { statusCode?: number }).statusCode === 404)
      throw new ImageRemovedError(options.image, engineMessage(error));
    throw error;
  }
}

async function runCreated(
  docker: Dockerode,
  container: Dockerode.Container,
  options: RunContainerOptions,
): Promise<ContainerRun> {
  const tail = new OutputTail(options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES);
  const stream = await container.attach({ stream: true, stdout: true, stderr: true });
  const drained = collectOutput(docker, stream, tail);
  const stopper = new Stopper(container);
  const timer = setTimeout(() => stopper.stop('deadline'), options.timeoutMs);
  const onAbort = (): void => stopper.stop('abort');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    options.signal?.throwIfAborted();
    const started = performance.now();
    await startContainer(container, options);
    // A stop requested while the start request was in flight found nothing running to kill.
    if (stopper.reason) stopper.stop(stopper.reason);
    const exit = (await container.wait()) as { StatusCode?: number };
    const durationMs = performance.now() - started;
    const killed = await stopper.killed();
    await withinMs(drained, OUTPUT_DRAIN_MS);
    if (killed && stopper.reason === 'abort') options.signal?.throwIfAborted();
    return {
      exitCode: killed ? null : (exit.StatusCode ?? null),
      timedOut: killed && stopper.reason === 'deadline',
      output: tail.text(),
      droppedBytes: tail.droppedBytes,
      durationMs: Math.round(durationMs),
    };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    (stream as unknown as { destroy?: () => void }).destroy?.();
  }
}

/** SIGKILLs the container once a deadline or abort asks, remembering whether the kill landed. */
class Stopper {
  reason: 'deadline' | 'abort' | undefined;
  private kill: Promise<boolean> | undefined;

  constructor(private readonly container: Dockerode.Container) {}

  stop(reason: 'deadline' | 'abort'): void {
    this.reason ??= reason;
    const previous = this.kill ?? Promise.resolve(false);
    this.kill = previous.then(
      async (done) =>
        done ||
        this.container.kill({ signal: 'SIGKILL' }).then(
          () => true,
          // 409: not running (it exited on its own just before the deadline, or has not started).
          () => false,
        ),
    );
  }

  /** Whether slimpy's kill ended the process (false when it exited on its own first). */
  async killed(): Promise<boolean> {
    return this.kill ? this.kill : false;
  }
}

function collectOutput(
  docker: Dockerode,
  stream: NodeJS.ReadWriteStream,
  tail: OutputTail,
): Promise<void> {
  const sink = (): Writable =>
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        tail.push(chunk);
        callback();
      },
    });
  // Tty is off, so stdout and stderr arrive multiplexed in 8-byte-header frames.
  docker.modem.demuxStream(stream, sink(), sink());
  return finished(stream as NodeJS.ReadableStream).then(
    () => undefined,
    () => undefined,
  );
}

async function startContainer(
  container: Dockerode.Container,
  options: RunContainerOptions,
): Promise<void> {
  try {
    await container.start();
  } catch (error) {
    // The executable only: a smoke command's argv can carry a whole program.
    const executable = options.entrypoint?.[0] ?? options.cmd?.[0] ?? '(the image default)';
    throw new ContainerStartError(options.image, executable, engineMessage(error));
  }
}

async function removeContainer(container: Dockerode.Container, quietly: boolean): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await container.remove({ force: true, v: true });
      return;
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode;
      // 404: already gone; 409: a removal is already in progress.
      if (status === 404 || status === 409 || quietly) return;
      if (attempt >= 2) {
        throw new Error(
          `could not remove smoke-test container ${container.id}: ${engineMessage(error)}. ` +
            `Remove it with: docker rm -f ${container.id}`,
        );
      }
    }
  }
}

function engineMessage(error: unknown): string {
  const json = (error as { json?: { message?: unknown } }).json;
  if (json && typeof json.message === 'string') return json.message.trim();
  return error instanceof Error ? error.message : String(error);
}

async function withinMs(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  try {
    await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
