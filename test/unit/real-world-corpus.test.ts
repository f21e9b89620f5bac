/**
 * Issue 18: Dockerfiles of public Python projects (test/fixtures/real-world/, each with its origin
 * in a header comment) through the planner: the environments it finds, the edits it makes, the
 * patch applying with `git apply`, and no path left unresolved. Eight of them are also built and
 * slimmed on the engine (test/integration/corpus.test.itg.ts).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { unifiedDiff } from '../../src/dockerfile/diff.js';
import { planSlim, type SlimPlan } from '../../src/dockerfile/plan.js';
import { gitApplyAll } from '../support/git-apply.js';

const CORPUS = new URL('../fixtures/real-world/', import.meta.url);

interface Expected {
  strategy: SlimPlan['strategy'];
  /** Each derived stage: the stage it prunes and the roots it prunes. */
  derived?: Array<[string, string[]]>;
  /** Each RUN the prune is appended to, and the roots it searches besides the usual places. */
  sameRun?: Array<[number, string[]]>;
}

const EXPECTED: Record<string, Expected> = {
  'airline-sentiment': { strategy: 'derived-stages', derived: [['builder', ['/app/venv']]] },
  'binance-trade-bot': { strategy: 'derived-stages', derived: [['builder', ['/install']]] },
  changedetection: { strategy: 'same-run', sameRun: [[6, []]] },
  'coiled-benchmarks': { strategy: 'same-run', sameRun: [[7, []]] },
  'distroless-python3-requirements': {
    strategy: 'derived-stages',
    derived: [['build-venv', ['/venv']]],
  },
  'django-bootstrap': { strategy: 'same-run', sameRun: [[32, []]] },
  'django-bootstrap-example': { strategy: 'same-run', sameRun: [[7, []]] },
  'django-bootstrap-onbuild': { strategy: 'none' },
  flaskblog: { strategy: 'same-run', sameRun: [[14, []]] },
  'full-stack-fastapi': {
    strategy: 'same-run',
    sameRun: [
      [27, []],
      [44, []],
    ],
  },
  'gitee-pages-action': { strategy: 'derived-stages', derived: [['builder', ['/app']]] },
  healthchecks: { strategy: 'same-run', sameRun: [[37, []]] },
  'jupyter-docker-stacks-foundation': { strategy: 'same-run', sameRun: [[107, []]] },
  'krddevdays-bot': {
    strategy: 'derived-stages',
    derived: [['builder', ['/app/__pypackages__/3.11/lib']]],
  },
  'kserve-sklearn': {
    strategy: 'derived-stages',
    derived: [['builder', ['/prod_venv', '/kserve', '/sklearnserver']]],
  },
  'kserve-success-200-isvc': {
    strategy: 'derived-stages',
    derived: [['builder', ['/prod_venv', '/kserve', '/success_200_isvc']]],
  },
  'legnaleurc-secretary': { strategy: 'derived-stages', derived: [['builder', ['/app/.venv']]] },
  mealie: { strategy: 'derived-stages', derived: [['venv-builder', ['/opt/mealie']]] },
  'netbox-docker': {
    strategy: 'same-run',
    sameRun: [
      [21, []],
      [44, []],
    ],
  },
  'open-webui': { strategy: 'same-run', sameRun: [[138, []]] },
  'pfsense-vpn-optimizer': { strategy: 'same-run', sameRun: [[9, []]] },
  phasegen: { strategy: 'same-run', sameRun: [[14, []]] },
  'qatar-time-backend': {
    strategy: 'same-run',
    sameRun: [
      [8, []],
      [9, []],
      [16, ['/project/__pypackages__', '/project/.venv']],
    ],
  },
  'sample-scraping': { strategy: 'none' },
  'searxng-builder': { strategy: 'same-run', sameRun: [[14, []]] },
  'sentiment-app': { strategy: 'derived-stages', derived: [['builder', ['/root/.local']]] },
  smapy: { strategy: 'derived-stages', derived: [['builder', ['/venv']]] },
  spamsubmit: { strategy: 'derived-stages', derived: [['stage-0', ['/venv']]] },
  'uv-docker-example': { strategy: 'derived-stages', derived: [['builder', ['/app']]] },
  'wagtail-bakerydemo': { strategy: 'same-run', sameRun: [[7, ['/venv']]] },
  'wemake-django-template': { strategy: 'same-run', sameRun: [[89, []]] },
  yamllint: { strategy: 'same-run', sameRun: [[11, ['/venv']]] },
  'zj-brain-science-platform': { strategy: 'same-run', sameRun: [[9, []]] },
};

const names = readdirSync(CORPUS, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

function dockerfile(name: string): string {
  return readFileSync(new URL(`${name}/Dockerfile`, CORPUS), 'utf8');
}

function plan(name: string): SlimPlan {
  return planSlim(dockerfile(name), {
    buildKit: true,
    platform: 'linux/amd64',
    scriptPath: '.slimpy/prune.sh',
    scriptArgs: ['--strip'],
  });
}

/** The roots each same-run prune searches besides the usual places, read from the RUN it ends. */
function sameRunRoots(result: SlimPlan, line: number): string[] {
  const run = result.text.split('\n').find((text, index) => {
    return index + 1 >= line && text.includes('sh /tmp/slimpy-prune.sh');
  });
  const words = /sh \/tmp\/slimpy-prune\.sh (.*)$/.exec(run ?? '')?.[1]?.split(' ') ?? [];
  const also = words.indexOf('--also-usual');
  return also === -1 ? [] : words.slice(also + 1).filter((word) => word.startsWith('/'));
}

describe('the real-world corpus', () => {
  test('has at least 30 Dockerfiles, each with its origin, and an expectation for each', () => {
    expect(names.length).toBeGreaterThanOrEqual(30);
    expect(names.sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const name of names) {
      expect(dockerfile(name), name).toMatch(
        /^# Real-world corpus \(issue 18\): [\w.-]+\/[\w.-]+, \S.* at [0-9a-f]{40}\n# Shape: .+\n# Adapted/,
      );
    }
  });

  test.each(names)('%s: the planner finds the environments it should', (name) => {
    const expected = EXPECTED[name];
    const result = plan(name);
    expect(result.strategy).toBe(expected?.strategy);
    expect(result.derived.map((stage) => [stage.stage, stage.roots])).toEqual(
      expected?.derived ?? [],
    );
    expect(result.sameRun.map(({ line }) => [line, sameRunRoots(result, line)])).toEqual(
      expected?.sameRun ?? [],
    );
    // Every path the planner read resolved: none is reported as unresolvable.
    expect(result.skipped.filter((line) => /could not resolve/.test(line))).toEqual([]);
    if (result.strategy !== 'none') expect(result.edits.length).toBeGreaterThan(0);
  });

  const scratch = mkdtempSync(join(tmpdir(), 'slimpy-corpus-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  test('every patch applies with git apply and gives the slimmed Dockerfile', () => {
    const originals = Object.fromEntries(
      names.map((name) => [`${name}/Dockerfile`, dockerfile(name)]),
    );
    const slimmed = Object.fromEntries(
      names.map((name) => [`${name}/Dockerfile`, plan(name).text]),
    );
    const patch = names
      .map((name) => unifiedDiff(dockerfile(name), plan(name).text, `${name}/Dockerfile`))
      .join('');
    expect(gitApplyAll(scratch, originals, patch)).toEqual(slimmed);
  });
});
