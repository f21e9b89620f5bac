/** Building an image through the Engine API from a context tar slimpy made itself. */
import type Docker from 'dockerode';
import type { EngineFacts } from '../report/model.js';
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
  constructor(
    readonly reason: string,
    readonly instruction: string | undefined,
    readonly logTail: string[],
  ) {
    super(
      `The image build failed${instruction ? ` at \`${instruction}\`` : ''}: ${reason}\n` +
        `Last lines of the build log:\n${logTail.slice(-20).join('\n')}`,
    );
    this.name = 'BuildError';
  }
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
  for await (const event of readBuildEvents(stream)) progress.handle(event);
  if (progress.error !== undefined) {
    throw new BuildError(progress.error, progress.failedInstruction, progress.lastLines());
  }
  if (!progress.imageId) {
    throw new BuildError('the engine reported no image id', undefined, progress.lastLines());
  }
  return progress.imageId;
}
