/**
 * The `toolchain` rule's measured side, pure parts: which packages are build-only and which the
 * shipped files need (from the probe's answers), what a stage added, the probe's answer, how
 * commands are recognised, the findings once the rule applied, and the savings row.
 */
import { describe, expect, it } from 'vitest';
import { buildsCode, installTool, purgeCommand } from '../../src/dockerfile/package-commands.js';
import type { SlimPlan } from '../../src/dockerfile/plan.js';
import { addedRoots } from '../../src/measure/added-paths.js';
import { mergeLayers } from '../../src/measure/filesystem.js';
import { historyBytes } from '../../src/measure/findings/origins.js';
import { probeAnswer, ProbeError } from '../../src/measure/runtime-probe.js';
import { toolchainFacts, type NeedsAnswer } from '../../src/measure/toolchain-facts.js';
import type { LayerContent } from '../../src/measure/layers.js';
import { asSettled, settleFindings } from '../../src/pipeline/settled-findings.js';
import { measureSavings, type SavingsInput } from '../../src/slim/savings.js';
import { dir, file, layer, symlink } from '../fixtures/findings/layers.js';
import { layerFacts } from '../support/fix-facts.js';
import { testFinding } from '../support/report.js';

const PQ_NEED = {
  soname: 'libpq.so.5',
  library: '/lib/x86_64-linux-gnu/libpq.so.5',
  via: 'cache',
  package: 'libpq5',
  by: ['/venv/lib/python3.11/site-packages/pgping/_pq.cpython-311-x86_64-linux-gnu.so'],
  count: 1,
};
const LIBC_NEED = { ...PQ_NEED, soname: 'libc.so.6', library: '/lib/libc.so.6', package: 'libc6' };

function answer(more: Partial<NeedsAnswer> = {}): NeedsAnswer {
  return {
    manager: 'dpkg',
    loader: 'glibc',
    installed: [
      'bash',
      'libc6',
      'gcc',
      'gcc-12',
      'cpp-12',
      'libpq-dev',
      'libpq5',
      'curl',
      'libasan8',
    ],
    requested: ['bash', 'libc6', 'gcc', 'libpq-dev', 'curl'],
    virtuals: [],
    scanned: 1,
    needs: [PQ_NEED, LIBC_NEED],
    missing: [],
    roots: [
      { path: '/venv', type: 'dir', owned: 0, unowned: 120, uid: 0, gid: 0, mode: 0o755 },
      { path: '/usr/lib/gcc', type: 'dir', owned: 200, unowned: 0, uid: 0, gid: 0, mode: 0o755 },
      { path: '/gone', type: 'missing', owned: 0, unowned: 0 },
    ],
    ...more,
  };
}

const BASE = { env: [], workdir: '', user: '' };

describe('build-only and runtime packages, from what the shipped files need', () => {
  it('keeps the library a shipped extension needs, and purges only what was asked for by name', () => {
    const facts = toolchainFacts(answer(), 'dpkg', ['bash', 'libc6'], BASE);
    expect(facts.stagePackages).toEqual([
      'gcc',
      'gcc-12',
      'cpp-12',
      'libpq-dev',
      'libpq5',
      'curl',
      'libasan8',
    ]);
    expect(facts.requested).toEqual(['gcc', 'libpq-dev', 'curl']);
    expect(facts.buildOnly).toEqual(['gcc', 'gcc-12', 'cpp-12', 'libpq-dev', 'libasan8']);
    // libc6 is the base image's: not the stage's to keep or remove.
    expect(facts.runtime).toEqual([{ name: 'libpq5', needs: [PQ_NEED] }]);
    expect(facts.purge).toEqual(['gcc', 'libpq-dev']);
    expect(facts.keep).toEqual(['libpq5']);
    expect(facts.shipped).toEqual([
      { path: '/venv', type: 'dir', uid: 0, gid: 0, mode: 0o755, ownedFiles: 0 },
    ]);
  });

  it('a toolchain package a shipped file links against is not build-only', () => {
    const asan = {
      ...PQ_NEED,
      soname: 'libasan.so.8',
      library: '/usr/lib/libasan.so.8',
      package: 'libasan8',
    };
    const facts = toolchainFacts(
      answer({ needs: [PQ_NEED, asan] }),
      'dpkg',
      ['bash', 'libc6'],
      BASE,
    );
    expect(facts.buildOnly).not.toContain('libasan8');
    expect(facts.keep).toEqual(['libasan8', 'libpq5']);
  });

  it('apk: a virtual package made only of build-only and runtime packages is purged whole', () => {
    const facts = toolchainFacts(
      answer({
        manager: 'apk',
        installed: [
          'musl',
          '.build-deps',
          'gcc',
          'musl-dev',
          'postgresql16-dev',
          'libpq',
          '.tools',
          'curl',
        ],
        requested: ['musl', '.build-deps', '.tools'],
        virtuals: [
          { name: '.build-deps', depends: ['gcc', 'musl-dev', 'postgresql16-dev', 'libpq'] },
          { name: '.tools', depends: ['curl', 'gcc'] },
        ],
        needs: [{ ...PQ_NEED, package: 'libpq' }],
      }),
      'apk',
      ['musl'],
      BASE,
    );
    expect(facts.purge).toEqual(['.build-deps']);
    expect(facts.keep).toEqual(['libpq']);
  });

  it('rpm without a record of what was asked for: every stage package counts as asked for', () => {
    const facts = toolchainFacts(
      answer({
        manager: 'rpm',
        installed: ['glibc', 'gcc', 'libpq-devel', 'libpq'],
        requested: null,
        needs: [{ ...PQ_NEED, package: 'libpq' }],
      }),
      'rpm',
      ['glibc'],
      BASE,
    );
    expect(facts.purge).toEqual(['gcc', 'libpq-devel']);
    // Marked user-installed all the same: nothing says it was.
    expect(facts.keep).toEqual(['libpq']);
  });

  it('a library found through ld.so.cache that the stage itself added means ldconfig in the final stage', () => {
    const own = { ...PQ_NEED, library: '/venv/lib/libown.so.1', package: undefined };
    expect(toolchainFacts(answer({ needs: [own] }), 'dpkg', [], BASE).ldconfig).toBe(true);
    const base = { ...own, library: '/usr/local/lib/libpython3.11.so.1.0' };
    expect(toolchainFacts(answer({ needs: [base] }), 'dpkg', [], BASE).ldconfig).toBe(false);
  });
});

describe('what a stage added, as paths to copy', () => {
  it('new directories whole, single paths in directories the base has; no toolchain, caches or package state', () => {
    const base = layer([
      dir('/usr'),
      dir('/usr/bin'),
      dir('/usr/lib'),
      dir('/root'),
      file('/usr/bin/python3', 10),
    ]);
    const own = layer([
      dir('/venv'),
      file('/venv/bin/python', 5),
      file('/venv/lib/site.py', 5),
      file('/usr/bin/gcc-12', 100),
      file('/usr/lib/gcc/x86_64-linux-gnu/12/cc1', 100),
      file('/usr/local/bin/app', 3),
      file('/root/.cache/pip/http/a', 50),
      file('/var/lib/dpkg/status', 9),
      symlink('/usr/bin/cc', '/etc/alternatives/cc'),
      dir('/data'),
    ]);
    // `/usr/bin/cc` is the compiler's name, so toolchain by path like gcc-12.
    expect(addedRoots([base, own], 1)).toEqual(['/data', '/usr/local', '/venv']);
  });

  it('a new directory holding toolchain files is split, so the copy leaves them', () => {
    const base = layer([dir('/usr')]);
    const own = layer([file('/usr/local/bin/tool', 5), file('/usr/local/include/tool.h', 5)]);
    expect(addedRoots([base, own], 1)).toEqual(['/usr/local/bin']);
  });
});

describe("the probe's answer", () => {
  it('is the last JSON line, after whatever Python printed before it', () => {
    expect(probeAnswer('img', 0, 'DeprecationWarning: x\n{"manager": "dpkg"}\n')).toEqual({
      manager: 'dpkg',
    });
  });

  it('a failed probe says what it printed', () => {
    expect(() => probeAnswer('img', 1, 'Traceback: boom')).toThrow(ProbeError);
    expect(() => probeAnswer('img', 1, 'Traceback: boom')).toThrow(/exit 1\): Traceback: boom/);
  });
});

describe('recognising installs and build steps', () => {
  it.each([
    ['apt-get update && apt-get install -y gcc', 'apt-get'],
    ['apt install -y --no-install-recommends gcc', 'apt'],
    ['apk add --no-cache --virtual .b gcc', 'apk'],
    ['dnf -y install gcc', 'dnf'],
    ['microdnf install gcc', 'microdnf'],
    ['pip install psycopg2', undefined],
  ])('%s -> %s', (command, tool) => expect(installTool(command)).toBe(tool));

  it.each([
    ['pip install -r requirements.txt', true],
    ['cd src && make install', true],
    ['./configure --prefix=/usr && make', true],
    ['gcc -O2 -o app app.c', true],
    ['python setup.py build_ext', true],
    ['npm ci', true],
    ['apt-get install -y gcc python3-dev', false],
    ['useradd -m app && mkdir -p /data', false],
    ['python3 -m venv /venv', false],
  ])('%s builds: %s', (command, builds) => expect(buildsCode(command)).toBe(builds));

  it('apt: mark what stays manual, then purge with what only the build pulled in', () => {
    expect(purgeCommand('apt-get', ['gcc', 'libpq-dev'], ['libpq5'])).toBe(
      'apt-mark manual libpq5 && apt-get purge -y --auto-remove gcc libpq-dev',
    );
    expect(purgeCommand('apt', ['gcc'], [])).toBe('apt-get purge -y --auto-remove gcc');
    expect(purgeCommand('microdnf', ['gcc'], [])).toBeUndefined();
  });
});

describe('the findings once the rule applied', () => {
  const finding = testFinding({
    kind: 'build-toolchain',
    title: 'Build toolchain',
    bytes: 200e6,
    instruction: 'RUN apt-get install gcc',
    fix: 'Move this RUN to a builder stage.',
    line: 6,
  });
  const leftovers = testFinding({
    kind: 'package-leftovers',
    title: 'apt lists',
    bytes: 40e6,
    instruction: 'RUN apt-get install gcc',
    fix: 'rm',
    line: 6,
  });
  const planWith = (fixes: SlimPlan['fixes'], skipped: SlimPlan['fixSkipped'] = {}): SlimPlan =>
    ({ fixes, fixSkipped: skipped }) as SlimPlan;

  it('the toolchain row leaves the report when the delivered image has the rule on its line', () => {
    const plan = planWith([{ rule: 'toolchain', lines: [6, 9] }]);
    const settled = settleFindings([finding, leftovers], {
      rulesOn: ['toolchain'],
      wanted: plan,
      delivered: plan,
      culprit: undefined,
    });
    expect(settled).toEqual([leftovers]);
  });

  it('it stays, with why, when the culprit search took the rule out', () => {
    const settled = settleFindings([finding], {
      rulesOn: ['toolchain'],
      wanted: planWith([{ rule: 'toolchain', lines: [6] }]),
      delivered: planWith([]),
      culprit: 'toolchain',
    });
    expect(settled[0]?.unfixed).toMatch(
      /culprit search delivered the variant without the `toolchain` rule/,
    );
  });

  it('it stays, with the planner’s reason, when the rule could not be planned, or is off', () => {
    const plan = planWith([], { toolchain: ['The build toolchain stays in the image: because.'] });
    const delivery = {
      rulesOn: ['toolchain' as const],
      wanted: plan,
      delivered: plan,
      culprit: undefined,
    };
    expect(settleFindings([finding], delivery)[0]?.unfixed).toBe(
      'The build toolchain stays in the image: because.',
    );
    expect(settleFindings([finding], { ...delivery, rulesOn: [] })[0]?.unfixed).toMatch(/is off/);
  });
});

describe('the savings row', () => {
  function image(layers: LayerContent[]): SavingsInput['before'] {
    const rows = layers.map((content) => ({
      diffId: content.diffId,
      size: historyBytes(content),
      createdBy: '',
      base: false,
    }));
    const size = rows.reduce((sum, row) => sum + row.size, 0);
    const measurement = {
      id: 'x',
      size,
      layers: rows,
      largestFiles: [],
      baseSize: 0,
      ownSize: size,
    };
    return { layers, files: mergeLayers(layers), measurement };
  }

  it("counts the install's packages as `toolchain` and the pruned Python files of the joined RUN by category", () => {
    const sp = '/usr/local/lib/python3.11/site-packages';
    const install = layer([
      file('/usr/lib/gcc/cc1', 3000),
      file('/usr/include/libpq-fe.h', 200),
      file('/var/lib/dpkg/status', 140),
    ]);
    const use = layer([file(`${sp}/pgping/_pq.so`, 50), file(`${sp}/pgping/tests/t.py`, 10)]);
    // The purge leaves a smaller package database in the joined RUN's layer: no strip did that.
    const joined = layer([file(`${sp}/pgping/_pq.so`, 50), file('/var/lib/dpkg/status', 100)]);
    const facts = { layers: [layerFacts(2, { index: 0 }), layerFacts(4, { index: 1 })] };
    const result = measureSavings({
      before: image([install, use]),
      after: image([joined]),
      fixes: [{ rule: 'toolchain', lines: [2, 4] }],
      facts,
    });
    expect(result.savings).toEqual([
      { category: 'toolchain', files: 3, bytes: 3240 },
      { category: 'tests', files: 1, bytes: 10 },
    ]);
  });
});

describe('findings worked out again with every compressed size', () => {
  const toolchain = testFinding({
    kind: 'build-toolchain',
    title: 'Build toolchain (gcc-12, +3 more)',
    bytes: 200e6,
    instruction: 'RUN',
    fix: 'move it',
    line: 8,
  });
  const leftovers = testFinding({
    kind: 'package-leftovers',
    title: 'apt lists',
    bytes: 40e6,
    instruction: 'RUN',
    fix: 'clean',
    line: 8,
  });

  it('leave out what slim mode left out, and keep the reason a kept one was not fixed', () => {
    const fresh = [
      { ...toolchain, compressedBytes: 70e6 },
      { ...leftovers, compressedBytes: 9e6 },
    ];
    expect(asSettled(fresh, [leftovers])).toEqual([fresh[1]]);
    const unfixed = { ...toolchain, unfixed: 'the `toolchain` fix rule is off (`fix` input).' };
    expect(asSettled(fresh, [unfixed, leftovers])).toEqual([
      { ...fresh[0], unfixed: unfixed.unfixed },
      fresh[1],
    ]);
  });
});
