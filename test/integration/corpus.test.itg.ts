/**
 * Issue 18: eight Dockerfiles of the real-world corpus (test/fixtures/real-world/), of different
 * shapes, built and slimmed on the engine through the whole session, each with a smoke test that
 * exercises its (stand-in) app. They share one base image: the suite's Python base plus binutils,
 * Debian's python3-pip (so Debian's own Python packages sit next to every install) and a local
 * package index of wheels (/wheels, through /etc/pip.conf). The base carries a nonce, so no step
 * comes from an earlier run's build cache and the prune's log lines are real.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runContainer } from '../../src/engine/containers.js';
import { chooseBuilder, engineFacts } from '../../src/engine/docker.js';
import { removeOwnObjects } from '../../src/engine/images.js';
import { slimpyLabels } from '../../src/engine/labels.js';
import { readSettings } from '../../src/inputs.js';
import { annotateMissingRoots } from '../../src/report/annotations.js';
import { renderReport } from '../../src/report/markdown.js';
import type { SlimpyReport } from '../../src/model/report.js';
import { runSession, type SessionResult } from '../../src/session.js';
import { engineMissing, testDocker } from '../support/engine.js';
import { collectingHooks, testHost } from '../support/hooks.js';
import { aptInstall, buildNonceBase } from '../support/nonce-base.js';

const docker = testDocker();
const runId = `test-corpus-${process.pid}`;
const work = mkdtempSync(path.join(os.tmpdir(), 'slimpy-corpus-'));
const CORPUS = fileURLToPath(new URL('../fixtures/real-world/', import.meta.url));
const OUTCOME = fileURLToPath(new URL('../fixtures/outcome/', import.meta.url));
const REPO = fileURLToPath(new URL('../../', import.meta.url));
/** Tag of the shared base every entry builds FROM (through its base-image build args). */
const CORPUS_BASE = `slimpy-test/corpus-base:${runId}`;

const engine = engineMissing() ? undefined : await engineFacts(docker);
const builder = engine ? chooseBuilder(engine).builder : 'classic';

beforeAll(async () => {
  if (engineMissing()) return;
  const wheels = execFileSync('bash', [path.join(REPO, 'scripts/fetch-corpus-wheels.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  const dir = path.join(work, 'base');
  mkdirSync(dir);
  cpSync(wheels, path.join(dir, 'wheels'), { recursive: true });
  await buildNonceBase(docker, {
    dir,
    lines: [
      ...aptInstall('binutils python3-pip'),
      'COPY wheels/ /wheels/',
      "RUN printf '[global]\\nno-index = true\\nfind-links = /wheels\\nbreak-system-packages = true\\n' >/etc/pip.conf",
    ],
    runId,
    label: 'corpus',
    tag: CORPUS_BASE,
    builder,
  });
});

afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  if (engineMissing()) return;
  await removeOwnObjects(docker, runId);
  await docker
    .getImage(CORPUS_BASE)
    .remove({ force: true })
    .catch(() => undefined);
});

interface Entry {
  name: string;
  shape: string;
  /** Build args naming the corpus base (every entry's base images are ARGs). */
  baseArgs: string[];
  smoke: string;
  check?: (result: SessionResult & { logs: string[] }) => Promise<void> | void;
}

/** Runs the session in slim mode on a corpus entry; a failure carries the end of the log. */
async function slimEntry(
  entry: Entry,
  fixtures = CORPUS,
): Promise<SessionResult & { logs: string[] }> {
  const context = path.join(work, 'contexts', entry.name);
  cpSync(path.join(fixtures, entry.name), context, { recursive: true });
  const values: Record<string, string> = {
    context,
    'build-args': entry.baseArgs.map((arg) => `${arg}=${CORPUS_BASE}`).join('\n'),
    network: 'host',
    'compressed-size': 'false',
    'smoke-test': entry.smoke,
  };
  const settings = readSettings((name) => values[name] ?? '', {
    workspace: context,
    outputDir: path.join(work, 'out', entry.name),
    cacheDir: path.join(work, 'layer-cache'),
    runId,
  });
  const { hooks, logs } = collectingHooks();
  try {
    const result = await runSession(settings, testHost(hooks));
    if (result.failures.length > 0) throw new Error(result.failures.join('\n'));
    return { ...result, logs };
  } catch (error) {
    if (error instanceof Error) {
      error.message += `\nLast lines of the pipeline log:\n${logs.slice(-60).join('\n')}`;
    }
    throw error;
  }
}

async function runIn(
  image: string,
  cmd: string[],
): Promise<{ exitCode: number | null; output: string }> {
  return runContainer(docker, { image, cmd, timeoutMs: 120_000, labels: slimpyLabels(runId) });
}

/** What every corpus entry must show: both images pass, the delivered one is smaller, no root was missing. */
async function expectSlimmed(report: SlimpyReport, logs: string[]): Promise<void> {
  expect(report.smoke?.before.passed, report.smoke?.before.output).toBe(true);
  expect(report.smoke?.after?.passed, report.smoke?.after?.output).toBe(true);
  const after = report.after;
  if (!after) throw new Error('the report has no slimmed image');
  expect(after.id).not.toBe(report.before.id);
  expect(after.size).toBeLessThan(report.before.size);
  expect(report.slim?.savings.reduce((sum, saving) => sum + saving.bytes, 0)).toBeGreaterThan(0);
  expect(
    logs.filter((line) => /does not exist or is not a directory|no Python environment/.test(line)),
  ).toEqual([]);
  expect(logs.some((line) => /slimpy: [\d.]+ MB saved in [1-9]\d* environment/.test(line))).toBe(
    true,
  );
}

const sizes: string[] = [];

const ENTRIES: Entry[] = [
  {
    name: 'kserve-success-200-isvc',
    shape:
      'global ARG, re-declared ARG, ENV VIRTUAL_ENV=${VENV_PATH}, COPY --from=builder $VIRTUAL_ENV $VIRTUAL_ENV',
    baseArgs: ['BASE_IMAGE'],
    smoke: 'cd / && python -m success_200_isvc.model',
    check: ({ report }) => {
      expect(
        report.slim?.notes.some((note) =>
          note.startsWith('Added stage `builder-slimpy` (FROM builder)'),
        ),
      ).toBe(true);
      expect(report.slim?.strategy).toBe('derived-stages');
    },
  },
  {
    name: 'yamllint',
    shape: 'one stage, ARG VENV_PATH in the stage, venv through a bind-mounted requirements file',
    baseArgs: ['BASE_IMAGE'],
    smoke:
      'python -c "import yaml; assert yaml.__with_libyaml__; print(yaml.safe_load(\'a: [1, 2]\'))"',
    check: ({ report }) => {
      expect(
        report.slim?.notes.some((note) => /line 11\b.*also searches `\/venv`/.test(note)),
      ).toBe(true);
    },
  },
  {
    name: 'gitee-pages-action',
    shape: 'pip install --target=/app, a distroless final stage',
    baseArgs: ['BASE_IMAGE', 'DISTROLESS_IMAGE'],
    smoke: 'cd /app && python3 main.py',
  },
  {
    name: 'sentiment-app',
    shape: 'pip install --user, COPY --from=builder /root/.local',
    baseArgs: ['BUILDER_IMAGE', 'BASE_IMAGE'],
    smoke: 'cd /code && python3 app.py',
  },
  {
    name: 'airline-sentiment',
    shape: 'a venv relative to WORKDIR, COPY to a relative destination',
    baseArgs: ['BASE_IMAGE'],
    smoke: 'cd /app && python app.py && uvicorn --help >/dev/null',
  },
  {
    name: 'flaskblog',
    shape: 'one stage, .venv relative to WORKDIR /app',
    baseArgs: ['BASE_IMAGE'],
    smoke:
      "cd /app && .venv/bin/python -c \"from flaskr import create_app; r = create_app().test_client().get('/hello'); assert r.status_code == 200 and r.text == 'Hello, blog!', r.text\"",
  },
  {
    name: 'spamsubmit',
    shape: 'COPY --from=0 of an unnamed stage, venv activated with `.`',
    baseArgs: ['BASE_IMAGE'],
    smoke: '. /venv/bin/activate && python /app/spamsubmit.py',
    check: ({ report }) => {
      expect(report.slim?.notes.some((note) => note.startsWith('Named stage 0 `stage-0`'))).toBe(
        true,
      );
    },
  },
  {
    name: 'phasegen',
    shape:
      "Debian's system Python: apt-get install python3-pip, pip install --break-system-packages",
    baseArgs: ['BASE_IMAGE'],
    smoke: 'python3 /phasegen_check.py',
    check: async ({ report, logs }) => {
      // Issue 18: the note cites the pip RUN (line 14), not the apt-get RUN (line 11), which
      // is left as it is: its files are Debian's.
      const appended = (report.slim?.notes ?? []).filter((note) =>
        note.startsWith('Appended the prune'),
      );
      expect(appended).toHaveLength(1);
      expect(appended[0]).toMatch(/^Appended the prune to the RUN at line 14\b/);
      expect(report.slim?.strategy).toBe('same-run');
      // The prune met Debian's own Python packages and left them alone ...
      expect(
        logs.some((line) =>
          /slimpy: left \d+ paths as they were: the OS package manager owns them/.test(line),
        ),
      ).toBe(true);
      // ... so dpkg finds every file of Debian's Python packages as installed: the delivered
      // image verifies as the original does (the base image itself ships without /usr/share/doc).
      const installed =
        "dpkg-query -W -f '${db:Status-Abbrev}${Package}\\n' 'python3*' | sed -n 's/^ii *//p'";
      const verify = ['sh', '-c', `dpkg --verify $(${installed}) 2>&1 | sort`];
      const [before, after] = [
        await runIn(report.before.id, verify),
        await runIn(report.after!.id, verify),
      ];
      expect(after.output).toBe(before.output);
      // The base image was made without documentation and manual pages; nothing else may differ.
      const problems = after.output.split('\n').filter((line) => line.trim() !== '');
      expect(problems.filter((line) => !/ \/usr\/share\/(?:doc|man)\//.test(line))).toEqual([]);
    },
  },
];

describe.skipIf(engineMissing())('real-world Dockerfiles, built and slimmed', () => {
  afterAll(() => {
    if (sizes.length > 0) console.log(`corpus before -> after:\n${sizes.join('\n')}`);
  });

  for (const entry of ENTRIES) {
    it(`${entry.name}: ${entry.shape}`, async () => {
      const started = Date.now();
      const result = await slimEntry(entry);
      await expectSlimmed(result.report, result.logs);
      await entry.check?.(result);
      const { before, after } = result.report;
      sizes.push(
        `${entry.name}: ${before.size} -> ${after?.size} bytes (${Math.round((Date.now() - started) / 1000)} s)`,
      );
    });
  }
});

describe.skipIf(engineMissing())('a root the prune cannot find', () => {
  it('the headline says no environment was found and why; no smoke-test failure is claimed', async () => {
    const { report, failures } = await slimEntry(
      { name: 'missing-root', shape: '', baseArgs: ['BASE_IMAGE'], smoke: 'check' },
      OUTCOME,
    );
    expect(failures).toEqual([]);
    expect(report.smoke?.before.passed).toBe(true);
    expect(report.smoke?.after?.passed).toBe(true);
    expect(report.slim?.missingRoots).toEqual([{ root: '/venv/bin/check', lines: [8] }]);
    expect(report.slim?.unchanged?.kind).toBe('no-environment');
    const body = renderReport(report, { commentKey: 'k' });
    const headline = body.split('\n\n')[1] ?? '';
    expect(headline).toMatch(
      /stays at [\d.]+ MB: slimpy found no Python environment to prune: the root <code>\/venv\/bin\/check<\/code> \(COPY at line 8\) is not a directory/,
    );
    expect(body).not.toMatch(/no slimmed variant passed|fails its smoke test/);
    const errors: Array<number | undefined> = [];
    annotateMissingRoots(report, (_message, properties) => errors.push(properties.startLine));
    expect(errors).toEqual([8]);
  });
});
