/**
 * The same checks on every engine users run: the default engine here (Debian's Docker 20.10),
 * Docker 26 with the classic store and Docker 26 with the containerd image store. DOCKER_HOST
 * selects the engine (scripts/test.sh runs this suite once per engine); engineFacts says which one
 * it is. Each run records the example's figures under .cache/compat/ so the summary can set the
 * engines side by side.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BuildError } from '../../src/engine/build.js';
import { chooseBuilder, engineFacts, versionAtLeast } from '../../src/engine/docker.js';
import { removeOwnObjects } from '../../src/engine/images.js';
import { readSettings } from '../../src/inputs.js';
import { BuildKitRequiredError } from '../../src/pipeline/errors.js';
import { runSession } from '../../src/session.js';
import type { EngineFacts, ImageMeasurement } from '../../src/model/report.js';
import { baseImage, engineMissing, testDocker } from '../support/engine.js';
import { collectingHooks, testHost } from '../support/hooks.js';

const docker = testDocker();
const runId = `test-compat-${process.pid}`;
const work = mkdtempSync(path.join(os.tmpdir(), 'slimpy-compat-'));
const { hooks, logs } = collectingHooks();
/** The budget the example is slimmed against; the delivered image is within it on every engine. */
const BUDGET = '450MB';

let facts: Omit<EngineFacts, 'builder' | 'builderReason'>;
/** True where slimpy falls back to the classic builder (containerd store before Engine 27.5). */
let classicBuilder = false;

function settingsFor(inputs: Record<string, string>) {
  return readSettings((name) => inputs[name] ?? '', {
    workspace: process.cwd(),
    outputDir: path.join(work, 'out', inputs.mode ?? 'slim'),
    cacheDir: path.join(work, 'layer-cache'),
    runId,
  });
}

/** What `docker images` and image inspect say about an image, raw. */
async function engineFigures(id: string): Promise<{ inspectSize: number; listSize: number }> {
  const inspect = await docker.getImage(id).inspect();
  const listed = await docker.listImages();
  const entry = listed.find((image) => image.Id === id);
  if (!entry) throw new Error(`${id} is not in the image list`);
  return { inspectSize: inspect.Size, listSize: entry.Size };
}

/**
 * The containerd store's unpacked bytes for an image, asked of containerd itself (not of Docker's
 * API): the snapshotter's usage of each layer's snapshot, keyed by chain ID. That is the disk usage
 * of the snapshot directories (`du -s -B1` of each `snapshots/N/fs` gives the same figure).
 */
async function snapshotUsage(imageId: string): Promise<number> {
  const ctr = process.env.SLIMPY_CTR;
  const address = process.env.SLIMPY_CONTAINERD_ADDRESS;
  if (!ctr || !address) {
    throw new Error(
      'the containerd store needs SLIMPY_CTR and SLIMPY_CONTAINERD_ADDRESS (scripts/engines/docker26.sh prints them)',
    );
  }
  const layers = (await docker.getImage(imageId).inspect()).RootFS.Layers ?? [];
  const keys = chainIds(layers);
  const out = execFileSync(
    ctr,
    ['-a', address, '-n', 'moby', 'snapshots', 'usage', '-b', ...keys],
    {
      encoding: 'utf8',
    },
  );
  const sizes = new Map(
    out
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((cells) => cells.length >= 2)
      .map((cells) => [cells[0], Number(cells[1])] as const),
  );
  return keys.reduce((sum, key) => {
    const size = sizes.get(key);
    if (size === undefined) throw new Error(`containerd has no snapshot ${key}:\n${out}`);
    return sum + size;
  }, 0);
}

/** OCI chain IDs: the first layer's diff ID, then sha256("<parent chain> <diff id>"). */
function chainIds(diffIds: readonly string[]): string[] {
  const chain: string[] = [];
  for (const diffId of diffIds) {
    const parent = chain.at(-1);
    chain.push(
      parent === undefined
        ? diffId
        : `sha256:${createHash('sha256').update(`${parent} ${diffId}`).digest('hex')}`,
    );
  }
  return chain;
}

async function expectEngineFigures(measured: ImageMeasurement): Promise<Record<string, number>> {
  const figures = await engineFigures(measured.id);
  if (facts.store === 'containerd') {
    // Docker's unpacked figure counts a few directory blocks more than the layers' snapshots (seen:
    // 12 kB of 500 MB); a wrong formula (content size, list size) would be off by 100+ MB.
    expect(Math.abs(measured.size - (await snapshotUsage(measured.id)))).toBeLessThanOrEqual(
      64 * 1024,
    );
  } else expect(measured.size).toBe(figures.inspectSize);
  expect(measured.compressed).toBeGreaterThan(0);
  if (facts.store === 'containerd') {
    // The blobs the store keeps (gzip layers), as a push sends them: inspect Size is those plus
    // the manifest and the config, a few kB.
    expect(measured.compressed).toBeLessThanOrEqual(figures.inspectSize);
    expect(measured.compressed).toBeGreaterThan(figures.inspectSize - 64 * 1024);
  } else {
    expect(measured.compressed).toBeLessThan(measured.size);
  }
  return { ...figures, size: measured.size, compressed: measured.compressed ?? -1 };
}

beforeAll(async () => {
  if (engineMissing()) return;
  facts = await engineFacts(docker);
  classicBuilder = chooseBuilder(facts).builder === 'classic';
});

afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  if (!engineMissing()) await removeOwnObjects(docker, runId);
});

describe.skipIf(engineMissing())('engine compatibility', () => {
  it('knows which engine it is and picks the builder that works there', () => {
    // scripts/test.sh says which engine it meant to select (`26/containerd`): a wrong DOCKER_HOST
    // must not pass as a different engine.
    const expected = process.env.SLIMPY_COMPAT_EXPECT;
    if (expected) {
      const [version = '', store] = expected.split('/');
      expect(facts.version.startsWith(`${version}.`) || facts.version === version).toBe(true);
      expect(facts.store).toBe(store);
    }
    expect(facts.apiVersion).toMatch(/^1\.\d+$/);
    const choice = chooseBuilder(facts);
    if (facts.store === 'containerd' && !versionAtLeast(facts.version, '27.5')) {
      expect(choice.builder).toBe('classic');
      expect(choice.reason).toMatch(/moby\/moby#47717/);
    } else {
      expect(choice).toEqual({ builder: 'buildkit' });
    }
  });

  it(`slims the shipped example within ${BUDGET}, sizes as this store counts them, smoke test passing`, async () => {
    const { report } = await runSession(
      settingsFor({
        context: 'examples/pyarrow-duckdb',
        'build-args': `PYTHON_IMAGE=${baseImage()}`,
        network: 'host',
        budget: BUDGET,
        'smoke-test':
          'python -c "import duckdb, pyarrow, numpy, prometheus_client" && python -m app',
      }),
      testHost(hooks),
    );
    expect(report.engine).toMatchObject({ version: facts.version, store: facts.store });
    expect(report.engine.builder).toBe(classicBuilder ? 'classic' : 'buildkit');
    expect(report.smoke?.before.passed).toBe(true);
    expect(report.smoke?.after?.passed).toBe(true);
    const before = await expectEngineFigures(report.before);
    const after = await expectEngineFigures(report.after!);
    expect(report.after!.size).toBeLessThan(report.before.size);
    expect(report.budget).toMatchObject({ metric: 'uncompressed', limit: 450e6, over: false });
    // Same check on every engine: the delivered image holds the same files. Each layer row's size is
    // what `docker history` says; on every store they add up to the reported size (containerd's
    // list may count a few kB of intermediate snapshots on top).
    const layerSum = report.after!.layers.reduce((sum, row) => sum + row.size, 0);
    expect(Math.abs(layerSum - report.after!.size)).toBeLessThan(64 * 1024);
    record({
      before,
      after,
      verdict: report.budget?.over ? 'over' : 'within',
      builder: report.engine.builder,
    });
  });

  it('builds COPY --link where BuildKit builds it, and says why where it cannot', async () => {
    const settings = settingsFor({ mode: 'measure', context: 'test/fixtures/compat/copy-link' });
    const logStart = logs.length;
    const outcome = await runSession(settings, testHost(hooks)).catch((error: unknown) => error);
    if (classicBuilder) {
      // Before any build: the user learns which line needs BuildKit and which engine runs it.
      expect(outcome).toBeInstanceOf(BuildKitRequiredError);
      expect((outcome as Error).message).toMatch(/COPY --link at line 3/);
      expect((outcome as Error).message).toMatch(/Engine >= 27\.5/);
      expect(logs.slice(logStart)).not.toContain('== Build the image');
    } else if (versionAtLeast(facts.version, '23.0')) {
      const { report } = outcome as Awaited<ReturnType<typeof runSession>>;
      expect(report.before.largestFiles.map((file) => file.path)).toEqual(['/hello.txt']);
    } else {
      // Engine 20.10's Dockerfile frontend predates --link: the engine's own error, at that line.
      expect(outcome).toBeInstanceOf(BuildError);
      expect((outcome as Error).message).toMatch(/link/);
    }
  });
});

/** Writes this engine's figures for the side-by-side summary (scripts/test-summary.mjs). */
function record(results: Record<string, unknown>): void {
  const dir = path.join('.cache', 'compat');
  mkdirSync(dir, { recursive: true });
  const name = `${facts.version}-${facts.store}`.replace(/[^\w.-]+/g, '_');
  writeFileSync(
    path.join(dir, `${name}.json`),
    JSON.stringify({ engine: facts, ...results }, null, 2) + '\n',
  );
}
