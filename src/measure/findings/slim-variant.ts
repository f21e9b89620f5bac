/**
 * The `-slim` variant of an official base image, when the same image comes in one: the Docker
 * Official Images for Python and Debian publish a slim twin of every full tag (the full Python
 * images are buildpack-deps underneath: compilers, headers, version control). Alpine is never
 * suggested: musl breaks manylinux wheels.
 */

const DISTROS = /^(?:trixie|bookworm|bullseye|buster|stretch)$/;
const VERSION = /^\d+(?:\.\d+)*(?:(?:a|b|rc)\d+)?$/;
const NO_SLIM = /slim|alpine|windows|nanoserver/;

/** `python:3.11` → `python:3.11-slim`, `python:3.11-bookworm` → `python:3.11-slim-bookworm`, `debian:bookworm` → `debian:bookworm-slim`. */
export function slimVariant(image: string): string | undefined {
  if (image.includes('@')) return undefined;
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  const hasTag = colon > slash;
  const repository = hasTag ? image.slice(0, colon) : image;
  const tag = hasTag ? image.slice(colon + 1) : 'latest';
  if (NO_SLIM.test(tag)) return undefined;
  const name = officialName(repository);
  const slimTag =
    name === 'python' ? pythonSlimTag(tag) : name === 'debian' ? debianSlimTag(tag) : undefined;
  return slimTag === undefined ? undefined : `${repository}:${slimTag}`;
}

/** `python`, `library/python`, `docker.io/library/python` → `python`; anything else → undefined. */
function officialName(repository: string): string | undefined {
  const match =
    /^(?:(?:docker\.io|index\.docker\.io|registry-1\.docker\.io)\/)?(?:library\/)?([a-z0-9]+)$/.exec(
      repository,
    );
  return match?.[1];
}

function pythonSlimTag(tag: string): string | undefined {
  if (tag === 'latest') return 'slim';
  if (DISTROS.test(tag)) return `slim-${tag}`;
  const withDistro = /^(.+)-([a-z]+)$/.exec(tag);
  if (
    withDistro?.[1] &&
    withDistro[2] &&
    DISTROS.test(withDistro[2]) &&
    VERSION.test(withDistro[1])
  ) {
    return `${withDistro[1]}-slim-${withDistro[2]}`;
  }
  return VERSION.test(tag) ? `${tag}-slim` : undefined;
}

function debianSlimTag(tag: string): string | undefined {
  if (tag === 'latest') return 'stable-slim';
  if (tag === 'experimental' || tag === 'rc-buggy') return undefined;
  return /^(?:[a-z]+|\d+(?:\.\d+)?)(?:-\d{8})?$/.test(tag) ? `${tag}-slim` : undefined;
}
