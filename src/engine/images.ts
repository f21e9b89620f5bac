/** Image inspection, history, tagging and cleanup of slimpy's own objects. */
import type Docker from 'dockerode';
import { MANAGED_LABEL, RUN_LABEL } from './labels.js';

export interface ImageFacts {
  id: string;
  /** `Size` from image inspect: on the classic store, what `docker images` shows. */
  size: number;
  diffIds: string[];
  /** What a container of the image starts with: its ENV (`KEY=value`), WORKDIR ('' = /) and USER ('' = root). */
  config: { env: string[]; workdir: string; user: string };
}

export interface HistoryRow {
  createdBy: string;
  size: number;
  /** False for metadata-only steps (ENV, CMD…), which add no layer. */
  emptyLayer: boolean;
}

export class ImageNotFoundError extends Error {
  constructor(image: string) {
    super(`Image ${image} does not exist on this engine.`);
    this.name = 'ImageNotFoundError';
  }
}

export async function inspectImage(docker: Docker, image: string): Promise<ImageFacts> {
  try {
    const info = await docker.getImage(image).inspect();
    return {
      id: info.Id,
      size: info.Size,
      diffIds: info.RootFS?.Layers ?? [],
      config: {
        env: info.Config?.Env ?? [],
        workdir: info.Config?.WorkingDir ?? '',
        user: info.Config?.User ?? '',
      },
    };
  } catch (error) {
    if (isNotFound(error)) throw new ImageNotFoundError(image);
    throw error;
  }
}

/** History rows oldest first (the API lists newest first). */
export async function imageHistory(docker: Docker, image: string): Promise<HistoryRow[]> {
  const rows = (await docker.getImage(image).history()) as Array<{
    CreatedBy: string;
    Size: number;
    Id: string;
  }>;
  return rows.reverse().map((row) => ({
    createdBy: row.CreatedBy,
    size: row.Size,
    emptyLayer: row.Size === 0 && !changesFilesystem(row.CreatedBy),
  }));
}

/**
 * The history API does not say which rows made a layer. Rows with bytes did; of the empty ones,
 * only filesystem instructions can have made a (0-byte) layer.
 */
function changesFilesystem(createdBy: string): boolean {
  const instruction = createdBy.replace(/^\/bin\/sh -c (#\(nop\) +)?/, '').trimStart();
  if (createdBy.includes('#(nop)')) return /^(COPY|ADD|WORKDIR)\b/.test(instruction);
  return !/^(ENV|CMD|LABEL|USER|EXPOSE|ENTRYPOINT|ARG|STOPSIGNAL|HEALTHCHECK|SHELL|VOLUME|ONBUILD|MAINTAINER)\b/.test(
    instruction,
  );
}

export async function tagImage(docker: Docker, imageId: string, tag: string): Promise<void> {
  const at = tag.lastIndexOf(':');
  const hasTag = at > tag.lastIndexOf('/');
  await docker
    .getImage(imageId)
    .tag({ repo: hasTag ? tag.slice(0, at) : tag, tag: hasTag ? tag.slice(at + 1) : 'latest' });
}

/**
 * Removes the images and containers that carry slimpy's labels for this run (or any run when
 * runId is undefined), except the images named in keepImages (the ones the user gets as outputs).
 * Objects without the label are never touched.
 */
export async function removeOwnObjects(
  docker: Docker,
  runId?: string,
  keepImages: readonly string[] = [],
): Promise<{ containers: number; images: number }> {
  const label = runId ? `${RUN_LABEL}=${runId}` : `${MANAGED_LABEL}=true`;
  const containers = await docker.listContainers({ all: true, filters: { label: [label] } });
  for (const c of containers)
    await docker
      .getContainer(c.Id)
      .remove({ force: true })
      .catch(() => undefined);
  const images = await docker.listImages({ filters: { label: [label] } });
  let removed = 0;
  for (const image of images) {
    if (keepImages.includes(image.Id)) continue;
    try {
      await docker.getImage(image.Id).remove({ force: true, noprune: false });
      removed++;
    } catch {
      // In use by a tagged image of the user's, or already gone: leave it.
    }
  }
  return { containers: containers.length, images: removed };
}

function isNotFound(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { statusCode?: number }).statusCode === 404
  );
}
