/**
 * The bench's own engine work, through slimpy's modules: building a Dockerfile as the pipeline
 * would, making a base image the build cache has never seen, and removing what the bench made.
 * Everything the bench creates carries the label BENCH_LABEL=<bench run>, and only that is removed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import { buildImage } from '../src/engine/build.js';
import { createContextTar } from '../src/engine/context.js';
import { tagImage } from '../src/engine/images.js';
import type { EngineFacts } from '../src/model/report.js';

export const BENCH_LABEL = 'dev.slimpy.bench';

export interface BenchEngine {
  docker: Docker;
  builder: EngineFacts['builder'];
  /** The bench run's id: the value of BENCH_LABEL on everything it creates. */
  runId: string;
  /** Where build logs go (one line each). */
  log: (line: string) => void;
}

export interface DockerfileBuild {
  /** Build context directory. */
  context: string;
  /** Dockerfile path (absolute, or relative to the context). */
  dockerfile: string;
  buildArgs: Record<string, string>;
}

export function benchLabels(engine: BenchEngine): Record<string, string> {
  return { [BENCH_LABEL]: engine.runId };
}

/** One build the way slimpy's pipeline sends it (its context tar, network host). */
export async function buildDockerfile(
  engine: BenchEngine,
  build: DockerfileBuild,
): Promise<string> {
  const context = await createContextTar(build.context, { dockerfile: build.dockerfile });
  return buildImage(engine.docker, {
    context: context.stream,
    dockerfile: context.dockerfileInContext,
    buildArgs: build.buildArgs,
    // This machine's engine has no bridge network for RUN steps (see scripts/demo.sh).
    network: 'host',
    builder: engine.builder,
    labels: benchLabels(engine),
    onLine: engine.log,
  });
}

/** Builds a Dockerfile given as text, in a context of only the given files. */
export async function buildDockerfileText(
  engine: BenchEngine,
  text: string,
  options: { tag?: string; files?: Array<{ path: string; content: string }> } = {},
): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'slimpy-bench-context-'));
  try {
    const context = await createContextTar(dir, {
      dockerfile: 'Dockerfile',
      extraFiles: [{ path: 'Dockerfile', content: text }, ...(options.files ?? [])],
    });
    const id = await buildImage(engine.docker, {
      context: context.stream,
      dockerfile: context.dockerfileInContext,
      buildArgs: {},
      network: 'host',
      builder: engine.builder,
      labels: benchLabels(engine),
      onLine: engine.log,
    });
    if (options.tag) await tagImage(engine.docker, id, options.tag);
    return id;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * A base image no build cache entry descends from: `base` plus one layer holding one empty file,
 * `/.slimpy-bench-<name>`. The build cache keys an image by its layers (not its id or tags), so
 * every instruction of a Dockerfile built on it runs; the empty file adds no bytes to any size.
 * This makes "cold" without pruning a build cache that other builds on the engine share.
 */
export async function freshBase(engine: BenchEngine, base: string, name: string): Promise<string> {
  const tag = `slimpy-bench/base:${name}`;
  const marker = `slimpy-bench-${name}`;
  await buildDockerfileText(engine, `FROM ${base}\nCOPY ${marker} /.${marker}\n`, {
    tag,
    files: [{ path: marker, content: '' }],
  });
  return tag;
}

/**
 * Removes the images carrying this bench run's label (tags with them), newest first, retrying
 * those another image still needs. Images built on a bench base inherit its label, so the
 * pipeline's images go too.
 */
export async function removeBenchImages(engine: BenchEngine): Promise<number> {
  const filters = { label: [`${BENCH_LABEL}=${engine.runId}`] };
  let removed = 0;
  for (let round = 0; round < 5; round++) {
    const images = await engine.docker.listImages({ filters });
    if (images.length === 0) break;
    images.sort((a, b) => b.Created - a.Created);
    for (const image of images) {
      try {
        await engine.docker.getImage(image.Id).remove({ force: true });
        removed++;
      } catch {
        // Still needed by a child image removed later in this round, or already gone.
      }
    }
  }
  return removed;
}
