/** Building an image through the Engine API from a context tar slimpy made itself. */
import type Docker from 'dockerode';
import type { EngineFacts } from '../model/report.js';
import { BuildProgress, readBuildEvents } from './build-progress.js';

export interface BuildRequest {
  context: NodeJS.ReadableStream;
  /** Dockerfile path inside the context tar. */
  dockerfile: string;
  target?: string;
  buildArgs: Record<string, string>;
  /** Network mode for RUN steps: `default`, `host`, `none`. */
  network: string;
  builder: EngineFacts['builder'];
  labels: Record<string, string>;
  tag?: string;
  onLine?: (line: string) => void;
  signal?: AbortSignal;
}

export class BuildError extends Error {
  /**
   * 1-based line of the Dockerfile the failure points at: from the engine's parse error, or found
   * by the caller from the failing instruction; undefined when unknown.
   */
  line: number | undefined;

  constructor(
    readonly reason: string,
    readonly instruction: string | undefined,
    readonly logTail: string[],
  ) {
    super(
      `The image build failed${instruction ? ` at \`${instruction}\`` : ''}: ${reason}${hintFor(reason)}\n` +
        `Last lines of the build log:\n${logTail.slice(-20).join('\n')}`,
    );
    this.name = 'BuildError';
    this.line = parseErrorLine(reason);
  }
}

/** What to do about the failures whose engine message does not say it. */
function hintFor(reason: string): string {
  if (/network bridge not found/i.test(reason)) {
    return (
      ' (this engine has no bridge network: set `network` (--network) to `host`, or to `none` ' +
      'when the RUN steps need no network)'
    );
  }
  return '';
}

/** Log bytes queued for stdout or stderr before the build stream waits for them to drain. */
const MAX_QUEUED_LOG_BYTES = 256 * 1024;

/**
 * Waits while stdout or stderr has more than 256 KiB queued (each queued line also costs a write
 * request). Node queues writes to a pipe in memory, and the runner reads the action's log through
 * a pipe more slowly than the engine streams a chatty RUN: 300 MB of classic-builder output took
 * 865 MB of heap before this, 45 MB with it; the engine waits for the log instead.
 */
async function logDrained(): Promise<void> {
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.writableLength <= MAX_QUEUED_LOG_BYTES || stream.destroyed) continue;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        for (const event of ['drain', 'close', 'error']) stream.off(event, done);
        resolve();
      };
      for (const event of ['drain', 'close', 'error']) stream.on(event, done);
    });
  }
}

/** `dockerfile parse error line 3: …` (BuildKit), `Dockerfile parse error on line 3: …` (newer). */
export function parseErrorLine(reason: string): number | undefined {
  const match = /dockerfile parse error (?:on )?line (\d+)/i.exec(reason);
  return match ? Number(match[1]) : undefined;
}

/** Builds and returns the image id. Throws BuildError naming the failing instruction. */
export async function buildImage(docker: Docker, request: BuildRequest): Promise<string> {
  const progress = new BuildProgress(request.onLine);
  const stream = (await docker.buildImage(request.context, {
    dockerfile: request.dockerfile,
    // Unset options must be absent: BuildKit reads an empty `t` or `target` as a reference.
    ...(request.target ? { target: request.target } : {}),
    ...(request.tag ? { t: request.tag } : {}),
    buildargs: request.buildArgs,
    // An engine started without a bridge needs an explicit mode (`host`) for RUN steps.
    networkmode: request.network || 'default',
    labels: request.labels,
    rm: true,
    forcerm: true,
    version: request.builder === 'buildkit' ? '2' : '1',
    ...(request.signal ? { abortSignal: request.signal } : {}),
  })) as NodeJS.ReadableStream & AsyncIterable<Buffer>;
  for await (const event of readBuildEvents(stream)) {
    progress.handle(event);
    await logDrained();
  }
  progress.finish();
  if (progress.error !== undefined) {
    throw new BuildError(progress.error, progress.failedInstruction, progress.lastLines());
  }
  if (!progress.imageId) {
    throw new BuildError('the engine reported no image id', undefined, progress.lastLines());
  }
  return progress.imageId;
}
