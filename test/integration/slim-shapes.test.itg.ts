/**
 * Issue 3, "Done when": runPipeline in slim mode against the real engine, over each Dockerfile
 * shape slimpy rewrites (test/fixtures/slim/*, built for real), and over the cases where a rule
 * must hold back: an ELF that only looks like one, a package that imports its own tests, a
 * builder without strip, and a single-stage image whose saving must be in the installing layer.
 *
 * Every fixture builds FROM a base made in beforeAll: the suite's Python image, binutils, and a
 * layer holding a nonce of this run. The nonce changes the cache key of every step built on the
 * base, so no fixture step is replayed from an earlier run's build cache: each is built for real,
 * and the prune's log lines (which the tests read) are those of a real run.
 */
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runContainer } from '../../src/engine/containers.js';
import { chooseBuilder, engineFacts, versionAtLeast } from '../../src/engine/docker.js';
import { removeOwnObjects } from '../../src/engine/images.js';
import { slimpyLabels } from '../../src/engine/labels.js';
import { readSettings } from '../../src/inputs.js';
import type { Settings } from '../../src/model/settings.js';
import type { PipelineHooks } from '../../src/pipeline/hooks.js';
import { runSession, type SessionResult } from '../../src/session.js';
import type { ImageMeasurement, SlimpyReport } from '../../src/model/report.js';
import { engineMissing, testDocker } from '../support/engine.js';
import { collectingHooks, testHost } from '../support/hooks.js';
import { aptInstall, buildNonceBase } from '../support/nonce-base.js';

const docker = testDocker();
const runId = `test-slim-shapes-${process.pid}`;
const work = mkdtempSync(path.join(os.tmpdir(), 'slimpy-slim-shapes-'));
const FIXTURES = fileURLToPath(new URL('../fixtures/slim/', import.meta.url));
const WHEELS = fileURLToPath(new URL('../../examples/pyarrow-duckdb/wheels/', import.meta.url));
const SITE = '/opt/venv/lib/python3.11/site-packages';
/** Tag of the per-run base every fixture builds FROM (its PYTHON_IMAGE build arg). */
const PYTHON_IMAGE = `slimpy-test/python-binutils:${runId}`;

const engine = engineMissing() ? undefined : await engineFacts(docker);
const builder = engine ? chooseBuilder(engine).builder : 'classic';
/** Heredocs and COPY --link need the Dockerfile frontend of Engine >= 23 (CI runs Docker 26). */
const newFrontend =
  engine !== undefined && versionAtLeast(engine.version, '23') && builder === 'buildkit';

beforeAll(async () => {
  if (engineMissing()) return;
  const dir = path.join(work, 'base');
  mkdirSync(dir);
  await buildNonceBase(docker, {
    dir,
    lines: aptInstall('binutils'),
    runId,
    label: 'slim-shapes',
    tag: PYTHON_IMAGE,
    builder,
  });
});

afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  if (engineMissing()) return;
  await removeOwnObjects(docker, runId);
  await docker
    .getImage(PYTHON_IMAGE)
    .remove({ force: true })
    .catch(() => undefined);
});

/** The build context of a fixture: its directory, plus the wheels it installs under wheels/. */
function prepareContext(fixture: string, wheels: string[]): string {
  const context = path.join(work, 'contexts', fixture);
  if (existsSync(context)) return context;
  cpSync(path.join(FIXTURES, fixture), context, { recursive: true });
  mkdirSync(path.join(context, 'wheels'), { recursive: true });
  for (const name of wheels) {
    const wheel = readdirSync(WHEELS).find((file) => file.startsWith(`${name}-`));
    if (!wheel) throw new Error(`no ${name} wheel in ${WHEELS}; run scripts/fetch-wheels.sh`);
    copyFileSync(path.join(WHEELS, wheel), path.join(context, 'wheels', wheel));
  }
  return context;
}

interface FixtureRun {
  settings: Settings;
  hooks: PipelineHooks;
  /** Everything the pipeline logged: group titles, build log lines, warnings. */
  logs: string[];
}

let runs = 0;

/** Settings and hooks for one slim run of a fixture; `inputs` are action inputs over the defaults. */
function fixtureRun(
  fixture: string,
  inputs: Record<string, string>,
  wheels = ['prometheus_client'],
): FixtureRun {
  const context = prepareContext(fixture, wheels);
  const values: Record<string, string> = {
    context,
    'build-args': `PYTHON_IMAGE=${PYTHON_IMAGE}`,
    network: 'host',
    'compressed-size': 'false',
    ...inputs,
  };
  runs += 1;
  const settings = readSettings((name) => values[name] ?? '', {
    workspace: context,
    outputDir: path.join(work, 'out', `${runs}-${fixture}`),
    cacheDir: path.join(work, 'layer-cache'),
    runId,
  });
  const { hooks, logs } = collectingHooks();
  return { settings, hooks, logs };
}

/** Runs the pipeline; a failure carries the end of the pipeline's log, to see which step broke. */
async function slim(
  fixture: string,
  inputs: Record<string, string>,
  wheels?: string[],
): Promise<SessionResult & { logs: string[] }> {
  const run = fixtureRun(fixture, inputs, wheels);
  try {
    const result = await runSession(run.settings, testHost(run.hooks));
    // A broken smoke test is a failure of the run here: no test below expects one.
    if (result.failures.length > 0) throw new Error(result.failures.join('\n'));
    return { ...result, logs: run.logs };
  } catch (error) {
    if (error instanceof Error) {
      error.message += `\nLast lines of the pipeline log:\n${run.logs.slice(-60).join('\n')}`;
    }
    throw error;
  }
}

/** `<derived> FROM <source>` for each stage the plan added, read from the report's notes. */
function derivedStages(report: SlimpyReport): string[] {
  return (report.slim?.notes ?? []).flatMap((note) => {
    const added = /^Added stage `([^`]+)` \(FROM ([^)]+)\)/.exec(note);
    return added ? [`${added[1]} FROM ${added[2]}`] : [];
  });
}

async function inspectSize(imageId: string): Promise<number> {
  return (await docker.getImage(imageId).inspect()).Size;
}

/** What every successful slim run promises: both smoke runs pass and the image is smaller. */
async function expectSlimmed(report: SlimpyReport): Promise<void> {
  expect(report.smoke?.before.passed, report.smoke?.before.output).toBe(true);
  expect(report.smoke?.after?.passed, report.smoke?.after?.output).toBe(true);
  const after = report.after;
  if (!after) throw new Error('the report has no slimmed image');
  expect(after.id).not.toBe(report.before.id);
  const [sizeBefore, sizeAfter] = [
    await inspectSize(report.before.id),
    await inspectSize(after.id),
  ];
  expect(report.before.size).toBe(sizeBefore);
  expect(after.size).toBe(sizeAfter);
  expect(sizeAfter).toBeLessThan(sizeBefore);
}

function saved(report: SlimpyReport, category: string): number {
  return report.slim?.savings.find((saving) => saving.category === category)?.bytes ?? 0;
}

/** Runs `cmd` in the image (network none, as the smoke test does) and returns its output. */
async function runIn(
  image: string,
  cmd: string[],
): Promise<{ exitCode: number | null; output: string }> {
  return runContainer(docker, { image, cmd, timeoutMs: 120_000, labels: slimpyLabels(runId) });
}

interface Shape {
  fixture: string;
  what: string;
  smoke: string;
  derived: string[];
  /** Notes (and skipped reasons) the plan must give, beyond the derived stages. */
  notes?: RegExp[];
  skipped?: RegExp[];
  /** Needs the Dockerfile frontend of Engine >= 23. */
  newFrontend?: boolean;
  /** What else this shape must show, in the images or the files written. */
  check?: (result: SessionResult) => Promise<void> | void;
}

const SHAPES: Shape[] = [
  {
    fixture: 'multi-stage',
    what: 'ARG before FROM, FROM --platform, AS, several COPY --from, a tools stage, comments, continuations, USER app',
    smoke: 'python -c "import prometheus_client" && healthcheck && test -f /srv/static/app.css',
    derived: ['builder-slimpy FROM builder'],
    notes: [/`builder-slimpy` runs the prune as root, because stage `builder` runs as `app`/],
    skipped: [
      /^Stage `tools` builds on .*holds no Python packages/,
      /^Stage `lint` \(line 13\) installs Python packages, but nothing from it reaches the final image/,
    ],
  },
  {
    fixture: 'index-chain',
    what: 'COPY --from=0, a copied stage FROM the builder, a final stage FROM a stage, renumbered index',
    // The renumbered index must still name the runtime stage: only it has that file.
    smoke:
      '/opt/venv/bin/python -c "import prometheus_client" && ' +
      'python3 -c "import prometheus_client" && grep -qx runtime /etc/copied-by-index',
    derived: ['stage-0-slimpy FROM stage-0', 'tested-slimpy FROM tested'],
    notes: [/^Named stage 0 `stage-0`/, /^Renumbered the stage index 3 at line 28 to 5\b/],
    check: async ({ report }) => {
      // `pip install --target /deps` leaves no site-packages: the prune finds /deps itself. Its
      // bytecode goes, but for what the traced smoke test read (docs/trace.md).
      const count = ['sh', '-c', "find /deps -name '*.pyc' | wc -l"];
      const [before, after] = [
        await runIn(report.before.id, count),
        await runIn(report.after!.id, count),
      ];
      expect(Number(after.output.trim())).toBeLessThan(Number(before.output.trim()));
      expect(Number(after.output.trim())).toBeGreaterThan(0); // python3 imports from /deps
    },
  },
  {
    fixture: 'escape-crlf',
    what: 'the # escape=` directive and CRLF line endings, derived stage and same-run prune',
    smoke:
      '/opt/venv/bin/python -c "import prometheus_client" && ' +
      '/opt/tools/bin/python -c "import prometheus_client"',
    derived: ['builder-slimpy FROM builder'],
    notes: [/^Appended the prune to the RUN at line 15\b/],
    check: ({ files }) => {
      // The engine read the fixture with its CRLF endings, and the rewrite kept them.
      const original = readFileSync(path.join(FIXTURES, 'escape-crlf/Dockerfile'), 'utf8');
      const slimmed = readFileSync(files.dockerfile!, 'utf8');
      for (const text of [original, slimmed]) expect(text).not.toMatch(/[^\r]\n/);
    },
  },
  {
    fixture: 'heredoc-link',
    what: 'heredocs and COPY --link, derived stage and a prune inside the heredoc',
    smoke:
      '/opt/venv/bin/python -c "import prometheus_client" && ' +
      '/opt/tools/bin/python -c "import prometheus_client"',
    derived: ['builder-slimpy FROM builder'],
    notes: [/^Appended the prune to the RUN at line 17\b/],
    newFrontend: true,
  },
];

describe.skipIf(engineMissing())('slimming each Dockerfile shape, built for real', () => {
  for (const shape of SHAPES) {
    it.skipIf(shape.newFrontend === true && !newFrontend)(
      `${shape.fixture}: ${shape.what}`,
      async () => {
        const result = await slim(shape.fixture, { 'smoke-test': shape.smoke });
        const { report } = result;
        expect(report.slim?.strategy).toBe('derived-stages');
        expect(derivedStages(report)).toEqual(shape.derived);
        for (const note of shape.notes ?? []) {
          expect(
            report.slim?.notes.some((line) => note.test(line)),
            String(note),
          ).toBe(true);
        }
        for (const reason of shape.skipped ?? []) {
          expect(
            report.slim?.skipped.some((line) => reason.test(line)),
            String(reason),
          ).toBe(true);
        }
        await expectSlimmed(report);
        expect(saved(report, 'packaging')).toBeGreaterThan(0);
        await shape.check?.(result);
      },
    );
  }
});

/** Bytes that start like an ELF file; `header` makes them parse as ELF headers up to strip. */
function fakeElf(size: number, seed: number, header: boolean): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0, x = seed; i < size; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    bytes[i] = x >>> 16;
  }
  bytes.write('\x7fELF', 0, 'latin1');
  if (header) {
    // ELF64, little-endian, ET_DYN, x86-64, no program headers, section headers (none) at the
    // end: the headers read as sound, so strip itself runs and fails on what follows.
    bytes.set([2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0], 4);
    bytes.writeUInt16LE(3, 16);
    bytes.writeUInt16LE(62, 18);
    bytes.writeUInt32LE(1, 20);
    bytes.writeBigUInt64LE(0n, 32);
    bytes.writeBigUInt64LE(BigInt(size), 40);
    bytes.writeUInt16LE(64, 52);
    bytes.writeUInt16LE(56, 54);
    bytes.writeUInt16LE(0, 56);
    bytes.writeUInt16LE(64, 58);
    bytes.writeUInt16LE(0, 60);
  }
  return bytes;
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

describe.skipIf(engineMissing())('what the rules hold back', () => {
  it('a broken ELF named like a shared library is restored byte for byte, and the build succeeds', async () => {
    const broken = {
      // Headers that parse: strip runs on it and fails.
      'libbroken.so': fakeElf(8192, 1, true),
      // Garbage right after the magic: the headers do not parse.
      '_garbage.cpython-311-x86_64-linux-gnu.so': fakeElf(4096, 2, false),
    };
    const context = prepareContext('broken-elf', ['numpy']);
    mkdirSync(path.join(context, 'broken'), { recursive: true });
    for (const [name, bytes] of Object.entries(broken)) {
      writeFileSync(path.join(context, 'broken', name), bytes);
    }
    const { report, logs } = await slim(
      'broken-elf',
      { 'smoke-test': '/opt/venv/bin/python -c "import numpy; assert numpy.ones(3).sum() == 3"' },
      ['numpy'],
    );
    expect(report.slim?.strategy).toBe('derived-stages');
    expect(derivedStages(report)).toEqual(['builder-slimpy FROM builder']);
    await expectSlimmed(report);
    // Stripping ran for real (numpy's own libraries got smaller) ...
    expect(saved(report, 'strip')).toBeGreaterThan(0);
    // ... and took the safe way out on both fakes.
    const dir = `${SITE}/brokenlib`;
    expect(
      logs.some((l) => l.includes(`kept the original ${dir}/libbroken.so (strip failed`)),
    ).toBe(true);
    expect(
      logs.some((l) =>
        l.includes(
          `kept the original ${dir}/_garbage.cpython-311-x86_64-linux-gnu.so (unreadable ELF headers)`,
        ),
      ),
    ).toBe(true);
    const paths = Object.keys(broken).map((name) => `${dir}/${name}`);
    const expected = Object.values(broken)
      .map((bytes, i) => `${sha256(bytes)}  ${paths[i]}`)
      .join('\n');
    for (const image of [report.before.id, report.after!.id]) {
      const run = await runIn(image, ['sha256sum', ...paths]);
      expect(run.exitCode, run.output).toBe(0);
      expect(run.output.trim()).toBe(expected);
    }
  });

  const importsTests = {
    'smoke-test': '/opt/venv/bin/python -c "import mypkg; assert mypkg.SAMPLE[\'answer\'] == 42"',
  };

  it('a package that imports its own tests: the culprit search names `tests` and delivers a passing image', async () => {
    const { report, logs } = await slim('imports-tests', importsTests);
    expect(report.slim?.strategy).toBe('derived-stages');
    expect(derivedStages(report)).toEqual(['builder-slimpy FROM builder']);
    // The full slim broke the smoke test: slimpy tried one rule off at a time, strip first.
    expect(logs).toContain('== Find what breaks the smoke test');
    expect(logs.filter((line) => line.startsWith('Trying without'))).toEqual([
      'Trying without Stripping debug symbols',
      'Trying without `tests` removal',
    ]);
    expect(logs).toContain(
      'warning: `tests` removal breaks the smoke test; slimpy delivers the variant without it.',
    );
    expect(report.slim?.culprit).toBe('tests');
    expect(report.slim?.variant.prune).not.toContain('tests');
    expect(report.slim?.variant.prune).toContain('packaging');
    expect(report.slim?.skipped).toContain(
      '`tests` removal breaks the smoke test; delivered the variant without it.',
    );
    await expectSlimmed(report);
    // The delivered image itself passes: mypkg's tests are still there and import.
    const delivered = await runIn(report.after!.id, ['sh', '-c', importsTests['smoke-test']]);
    expect(delivered.exitCode, delivered.output).toBe(0);
    expect(saved(report, 'tests')).toBe(0);
  });

  it('a package that imports its own tests: with `strict` the pipeline fails instead', async () => {
    const run = fixtureRun('imports-tests', { ...importsTests, strict: 'true' });
    const { failures, report } = await runSession(run.settings, testHost(run.hooks));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/Slimming breaks the smoke test and `strict` is on/);
    expect(failures[0]).toMatch(/No module named 'mypkg\.tests'/);
    // What was measured is still reported: the sizes and the failing test's output.
    expect(report.smoke?.after?.passed).toBe(false);
    expect(run.logs).not.toContain('== Find what breaks the smoke test');
  });

  it('a builder with no strip and no package manager: the prune still runs, the log says stripping was skipped', async () => {
    const { report, logs } = await slim('no-strip', {
      'smoke-test': '/opt/venv/bin/python -c "import prometheus_client"',
    });
    expect(report.slim?.strategy).toBe('derived-stages');
    expect(derivedStages(report)).toEqual(['builder-slimpy FROM builder']);
    await expectSlimmed(report);
    expect(saved(report, 'tests')).toBeGreaterThan(0);
    expect(saved(report, 'pycache')).toBeGreaterThan(0);
    expect(saved(report, 'strip')).toBe(0);
    expect(
      logs.some((line) =>
        line.includes(
          'slimpy: warning: strip skipped: no strip command and no package manager (apk, apt-get, dnf, microdnf, yum) to install binutils',
        ),
      ),
    ).toBe(true);
  });

  it('a single stage: the prune runs in the installing RUN, so that layer itself is smaller', async () => {
    const { report } = await slim('single-stage', {
      'smoke-test': 'cd /app && /app/.venv/bin/python app.py',
    });
    expect(report.slim?.strategy).toBe('same-run');
    expect(derivedStages(report)).toEqual([]);
    expect(
      report.slim?.notes.some((note) => /^Appended the prune to the RUN at line 7\b/.test(note)),
    ).toBe(true);
    await expectSlimmed(report);
    const installing = (measured: ImageMeasurement): number => {
      const rows = measured.layers.filter((row) =>
        row.createdBy.includes('python3 -m venv /app/.venv'),
      );
      expect(rows).toHaveLength(1);
      return rows[0]!.size;
    };
    const [layerBefore, layerAfter] = [installing(report.before), installing(report.after!)];
    expect(layerAfter).toBeLessThan(layerBefore);
    // Not hidden by a later layer: the image is smaller by about what that layer lost.
    const imageSaving = report.before.size - report.after!.size;
    expect(imageSaving).toBeGreaterThan(0.9 * (layerBefore - layerAfter));
  });
});
