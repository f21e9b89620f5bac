/**
 * The patch a slim run writes, as a team would commit it, on every shipped example and on the
 * single-stage shape (the prune inside the installing RUN): it applies to the repository with
 * `git apply`, names its files from the repository root, adds no file over 100 lines, and builds
 * with the classic builder (as the original Dockerfile does) into an image that still imports and
 * whose environment was pruned. That the committed script leaves the same files as the prune
 * slimpy's own builds run is test/integration/committed-script.test.itg.ts.
 */
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWheelIndex, type WheelIndex } from '../../bench/wheel-index.js';
import { buildKitOnlyUses } from '../../src/dockerfile/buildkit-only.js';
import { buildImage } from '../../src/engine/build.js';
import { createContextTar } from '../../src/engine/context.js';
import { removeOwnObjects } from '../../src/engine/images.js';
import { slimpyLabels } from '../../src/engine/labels.js';
import { readSettings } from '../../src/inputs.js';
import { writeSlimmedFiles } from '../../src/pipeline/files.js';
import { runSession } from '../../src/session.js';
import { runSmoke } from '../../src/smoke/smoke.js';
import { PRUNE_CATEGORIES } from '../../src/model/categories.js';
import { baseImage, engineMissing, testDocker } from '../support/engine.js';
import { collectingHooks, testHost } from '../support/hooks.js';

const docker = testDocker();
const runId = `test-patch-${process.pid}`;
const work = mkdtempSync(path.join(os.tmpdir(), 'slimpy-patch-'));
const WHEELS = 'examples/pyarrow-duckdb/wheels';

interface Case {
  name: string;
  /** The directory copied into the repository at `into`. */
  from: string;
  into: string;
  wheels?: string[];
  /** Passes in the patched image: its environment was pruned (checked first: an import as root
   * writes __pycache__), and it still imports. */
  check: string;
}

const pruned = (venv: string): string =>
  `test -z "$(find ${venv} -name __pycache__ -o -name '*.pyi' | head -n 1)"`;

/** The builder-stage example, and the single-stage shape (the prune inside the installing RUN). */
const CASES: Case[] = [
  {
    name: 'examples/pyarrow-duckdb',
    from: 'examples/pyarrow-duckdb',
    into: 'examples/pyarrow-duckdb',
    check: `${pruned('/app/.venv')} && python -c "import duckdb, pyarrow, numpy, prometheus_client"`,
  },
  {
    name: 'one stage: the prune inside the installing RUN',
    from: 'test/fixtures/slim/single-stage',
    into: 'services/api',
    wheels: ['prometheus_client'],
    // The prune installed binutils for strip and took them out again: the image ships whole.
    check: `${pruned('/app/.venv')} && ! command -v readelf && /app/.venv/bin/python app.py`,
  },
];

/** A git repository holding the case's files, committed. */
function repository(testCase: Case): string {
  const repo = path.join(work, testCase.into.replace(/\W+/g, '-'));
  const context = path.join(repo, testCase.into);
  mkdirSync(context, { recursive: true });
  cpSync(testCase.from, context, { recursive: true });
  for (const name of testCase.wheels ?? []) {
    const wheel = readdirSync(WHEELS).find((file) => file.startsWith(`${name}-`));
    if (!wheel) throw new Error(`no ${name} wheel in ${WHEELS}; run scripts/fetch-wheels.sh`);
    mkdirSync(path.join(context, 'wheels'), { recursive: true });
    cpSync(path.join(WHEELS, wheel), path.join(context, 'wheels', wheel));
  }
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], {
      cwd: repo,
    });
  git('init', '-q');
  writeFileSync(path.join(repo, '.gitignore'), 'wheels/\n');
  git('add', '-A');
  git('commit', '-qm', 'the team’s repository');
  return repo;
}

afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  if (!engineMissing()) await removeOwnObjects(docker, runId);
});

describe.skipIf(engineMissing())('the patch a team commits', () => {
  it.each(CASES)('$name: applies and builds with the classic builder', async (testCase) => {
    const repo = repository(testCase);
    const context = path.join(repo, testCase.into);
    const original = readFileSync(path.join(context, 'Dockerfile'), 'utf8');
    expect(buildKitOnlyUses(original)).toEqual([]); // the original builds with the classic builder
    const inputs: Record<string, string> = {
      context,
      'build-args': `PYTHON_IMAGE=${baseImage()}`,
    };
    const settings = readSettings((name) => inputs[name] ?? '', {
      workspace: repo,
      outputDir: path.join(work, 'out', testCase.into),
      cacheDir: path.join(work, 'layer-cache'),
      runId,
    });
    const script = { strip: true, prune: [...PRUNE_CATEGORIES], keep: [] };
    const { files, patch } = await writeSlimmedFiles(settings, original, script);

    const touched = [...patch.matchAll(/^diff --git a\/(\S+) b\/\S+$/gm)].map((m) => m[1]);
    expect(touched).toEqual([`${testCase.into}/Dockerfile`, `${testCase.into}/.slimpy/prune.sh`]);
    const added = patch.split(/^diff --git /m).filter((part) => part.includes('new file mode'));
    for (const part of added) {
      const lines = part.split('\n').filter((l) => l.startsWith('+') && !l.startsWith('+++'));
      expect(lines.length).toBeLessThanOrEqual(100);
    }
    execFileSync('git', ['apply', '--check', files.patch], { cwd: repo });
    execFileSync('git', ['apply', files.patch], { cwd: repo });
    const patched = readFileSync(path.join(context, 'Dockerfile'), 'utf8');
    expect(patched).toBe(readFileSync(files.dockerfile, 'utf8'));
    expect(buildKitOnlyUses(patched)).toEqual([]);

    await expectClassicBuildPasses(context, { PYTHON_IMAGE: baseImage() }, testCase.check);
  });
});

/** Builds the patched context with the classic builder and runs `check` in the image. */
async function expectClassicBuildPasses(
  context: string,
  buildArgs: Record<string, string>,
  check: string,
): Promise<void> {
  const tar = await createContextTar(context, {
    dockerfile: path.join(context, 'Dockerfile'),
    builder: 'classic',
  });
  const imageId = await buildImage(docker, {
    context: tar.stream,
    dockerfile: tar.dockerfileInContext,
    buildArgs,
    network: 'host',
    builder: 'classic',
    labels: slimpyLabels(runId),
  });
  const smoke = await runSmoke(docker, {
    before: imageId,
    command: check,
    timeoutMs: 300_000,
    labels: slimpyLabels(runId),
    runs: 1,
  });
  expect(smoke.before.passed, smoke.before.output).toBe(true);
}

/** The new files a patch adds: none over 100 lines. */
function expectShortNewFiles(patch: string): void {
  const added = patch.split(/^diff --git /m).filter((part) => part.includes('new file mode'));
  for (const part of added) {
    const lines = part.split('\n').filter((l) => l.startsWith('+') && !l.startsWith('+++'));
    expect(lines.length).toBeLessThanOrEqual(100);
  }
}

interface ExampleCase {
  name: string;
  smoke: string;
  /** Passes in the image the patched Dockerfile builds: what the fix rules removed stays out. */
  check: string;
  wheelIndex?: string;
}

/**
 * The examples whose slim run applies fix rules (leftovers, earlier-layers, toolchain; the
 * single-stage example's install-inputs needs BuildKit): the patch the whole session writes, with
 * the rules, builds with the classic builder as the original does.
 */
const EXAMPLES: ExampleCase[] = [
  {
    name: 'toolchain',
    smoke: 'pgping',
    // The toolchain left in the installing RUN, libpq5 stayed for the extension.
    check: `! command -v gcc && ! test -e /usr/include/libpq-fe.h && pgping`,
  },
  {
    name: 'single-stage',
    smoke: 'python -c "import duckdb, pyarrow, numpy" && python -m app',
    wheelIndex: 'single-stage',
    check: `${pruned('/app/.venv')} && test -z "$(ls /var/lib/apt/lists | grep _Packages)" && python -c "import duckdb, pyarrow, numpy"`,
  },
];

describe.skipIf(engineMissing())(
  'the patch of an example with fix rules, as the session writes it',
  () => {
    let index: WheelIndex | undefined;
    beforeAll(async () => {
      const cache = process.env.SLIMPY_WHEEL_CACHE ?? '.cache/wheels';
      index = await startWheelIndex(path.join(cache, 'index', 'single-stage'));
    });
    afterAll(() => index?.stop());

    it.each(EXAMPLES)(
      'examples/$name: applies and builds with the classic builder',
      async (example) => {
        const into = `examples/${example.name}`;
        const repo = repository({ name: example.name, from: into, into, check: '' });
        const context = path.join(repo, into);
        const original = readFileSync(path.join(context, 'Dockerfile'), 'utf8');
        expect(buildKitOnlyUses(original)).toEqual([]);
        const buildArgs: Record<string, string> = {
          PYTHON_IMAGE: baseImage(),
          ...(example.wheelIndex ? { WHEEL_INDEX: index?.url ?? '' } : {}),
        };
        const inputs: Record<string, string> = {
          context,
          'build-args': Object.entries(buildArgs)
            .map(([name, value]) => `${name}=${value}`)
            .join('\n'),
          network: 'host',
          'smoke-test': example.smoke,
          'compressed-size': 'false',
        };
        const settings = readSettings((name) => inputs[name] ?? '', {
          workspace: repo,
          outputDir: path.join(work, 'out', into),
          cacheDir: path.join(work, 'layer-cache'),
          runId,
        });
        const { hooks, logs } = collectingHooks();
        const result = await runSession(settings, testHost(hooks));
        expect(result.failures, logs.slice(-40).join('\n')).toEqual([]);
        const slim = result.report.slim;
        const rows = (slim?.savings ?? []).map((saving) => saving.category);
        expect(rows, 'the session applied fix rules').toEqual(
          expect.arrayContaining(example.name === 'toolchain' ? ['toolchain'] : ['leftovers']),
        );
        const patch = slim?.patch ?? '';
        const touched = [...patch.matchAll(/^diff --git a\/(\S+) b\/\S+$/gm)].map((m) => m[1]);
        expect(touched).toEqual([`${into}/Dockerfile`, `${into}/.slimpy/prune.sh`]);
        expectShortNewFiles(patch);
        execFileSync('git', ['apply', '-'], { cwd: repo, input: patch });
        const patched = readFileSync(path.join(context, 'Dockerfile'), 'utf8');
        expect(buildKitOnlyUses(patched)).toEqual([]);
        await expectClassicBuildPasses(context, buildArgs, example.check);
      },
    );
  },
);
