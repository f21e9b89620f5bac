/**
 * sha256 of chosen files of an image's layers, for finding duplicates. Every layer's index
 * (`readImageLayers`) carries the content hash of each regular file of 64 KiB or more, hashed
 * while the layer was read for its sizes (or known from the layer cache), so no second read of
 * the image export is needed: this only picks the requested files' hashes out of it.
 */
import type { LayerContent } from '../layers.js';

export interface HashRequest {
  /** Layer holding the file (diff id, `sha256:…`). */
  diffId: string;
  path: string;
  size: number;
}

/** Key of a file's hash in the map `requestedHashes` returns. */
export function hashKey(diffId: string, path: string): string {
  return `${diffId}\n${path}`;
}

/**
 * The hashes of the requested files; a file the layers hold no hash for (not there, or smaller
 * than what is hashed) is simply absent from the result.
 */
export function requestedHashes(
  layers: readonly Pick<LayerContent, 'diffId' | 'hashes'>[],
  requests: readonly HashRequest[],
): Map<string, string> {
  const byDiffId = new Map(layers.map((layer) => [layer.diffId, layer]));
  const hashes = new Map<string, string>();
  for (const request of requests) {
    const hash = byDiffId.get(request.diffId)?.hashes.get(request.path);
    if (hash !== undefined) hashes.set(hashKey(request.diffId, request.path), hash);
  }
  return hashes;
}
