import { describe, expect, test } from 'vitest';
import { FIX_PLANNERS } from '../../src/dockerfile/fixes/index.js';
import { planSlim, type PlanOptions, type SlimPlan } from '../../src/dockerfile/plan.js';
import { FIX_RULES, type FixRule, type LayerFacts } from '../../src/model/fixes.js';
import type { Finding } from '../../src/model/report.js';

/** Facts of one layer, made by the instruction at `line`. */
function layerFacts(line: number, more: Partial<LayerFacts> = {}): LayerFacts {
  return {
    index: line,
    line,
    bytes: 0,
    leftovers: [],
    copied: [],
    occupied: [],
    environments: [],
    ...more,
  };
}

const APT_LISTS = { kind: 'apt-lists', dir: '/var/lib/apt/lists', files: 40, bytes: 45e6 } as const;
const APT_CACHE = { kind: 'apt-cache', dir: '/var/cache/apt', files: 20, bytes: 30e6 } as const;
const PIP_CACHE = { kind: 'pip-cache', dir: '/root/.cache/pip', files: 9, bytes: 60e6 } as const;

function plan(
  text: string,
  layers: LayerFacts[],
  options: Partial<PlanOptions> & { rules?: FixRule[]; findings?: Finding[] } = {},
): SlimPlan {
  return planSlim(text, {
    buildKit: true,
    scriptPath: '.slimpy/prune.sh',
    scriptArgs: ['--prune', 'all'],
    fixes: {
      rules: options.rules ?? [...FIX_RULES],
      findings: options.findings ?? [],
      facts: { layers },
    },
    ...options,
  });
}

describe('the fix-rule framework', () => {
  test('every fix rule a user can name has a planner', () => {
    expect(Object.keys(FIX_PLANNERS).sort()).toEqual([...FIX_RULES].sort());
  });

  test('with no rules chosen, nothing changes and no rule is reported', () => {
    const text = 'FROM debian\nRUN apt-get update && apt-get install -y curl\n';
    const result = plan(text, [layerFacts(2, { leftovers: [APT_LISTS] })], { rules: [] });
    expect(result.text).toBe(text);
    expect(result.fixes).toEqual([]);
    expect(result.strategy).toBe('none');
  });

  test('a Dockerfile that only a fix changes gets the `fixes` strategy and no prune script', () => {
    const text = 'FROM python:3.11-slim\nRUN apt-get update && apt-get install -y curl\n';
    const result = plan(text, [layerFacts(2, { leftovers: [APT_LISTS] })]);
    expect(result.strategy).toBe('fixes');
    expect(result.usesPruneScript).toBe(false);
    expect(result.fixes).toEqual([{ rule: 'leftovers', lines: [2] }]);
  });
});

describe('leftovers', () => {
  test('apt lists and cache are removed at the end of the RUN that writes them', () => {
    const text = [
      'FROM python:3.11-slim',
      'RUN apt-get update \\',
      '    && apt-get install -y --no-install-recommends curl',
      'COPY app.py /app/',
      '',
    ].join('\n');
    const result = plan(text, [layerFacts(2, { leftovers: [APT_LISTS, APT_CACHE] })]);
    expect(result.text).toBe(
      [
        'FROM python:3.11-slim',
        'RUN apt-get update \\',
        '    && apt-get install -y --no-install-recommends curl && apt-get clean && rm -rf /var/lib/apt/lists/*',
        'COPY app.py /app/',
        '',
      ].join('\n'),
    );
    expect(result.notes).toContain(
      "Removed apt package lists and apt's package cache at the end of the RUN at line 2, which writes them: deleted by a later RUN they would still ship in this one's layer.",
    );
  });

  test("pip's cache goes after the prune the same RUN already runs, joined with && even after a `;`", () => {
    const text = 'FROM python:3.11-slim\nRUN pip install numpy;\n';
    const result = plan(text, [layerFacts(2, { leftovers: [PIP_CACHE] })]);
    expect(result.sameRun).toEqual([{ line: 2 }]);
    expect(result.text).toBe(
      'FROM python:3.11-slim\nRUN --mount=type=bind,source=.slimpy/prune.sh,target=/tmp/slimpy-prune.sh pip install numpy; sh /tmp/slimpy-prune.sh --prune all && rm -rf /root/.cache/pip\n',
    );
  });

  test('a RUN that already cleans up has no leftovers in its layer and is left alone', () => {
    const text =
      'FROM python:3.11-slim\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n';
    const result = plan(text, [layerFacts(2)]);
    expect(result.text).toBe(text);
    expect(result.fixes).toEqual([]);
  });

  test('lists a later RUN installs from stay, with the reason', () => {
    const text = [
      'FROM python:3.11-slim',
      'RUN apt-get update',
      'RUN apt-get install -y curl',
      '',
    ].join('\n');
    const result = plan(text, [layerFacts(2, { leftovers: [APT_LISTS] })]);
    expect(result.text).toBe(text);
    expect(result.skipped).toContain(
      'The RUN at line 2 leaves apt package lists in the image, but a later RUN installs from them without refreshing them; run both in one RUN to have them removed.',
    );
  });

  test('a later RUN that refreshes the lists itself does not need them', () => {
    const text = [
      'FROM python:3.11-slim',
      'RUN apt-get update && apt-get install -y curl',
      'RUN apt-get update && apt-get install -y git',
      '',
    ].join('\n');
    const result = plan(text, [
      layerFacts(2, { leftovers: [APT_LISTS] }),
      layerFacts(3, { leftovers: [APT_LISTS] }),
    ]);
    expect(result.fixes).toEqual([{ rule: 'leftovers', lines: [2, 3] }]);
  });

  test('a bare here-document script gets the cleanup as its last line', () => {
    const text = [
      '# syntax=docker/dockerfile:1',
      'FROM python:3.11-slim',
      'RUN <<EOF',
      'apt-get update',
      'apt-get install -y curl',
      'EOF',
      '',
    ].join('\n');
    const result = plan(text, [layerFacts(3, { leftovers: [APT_LISTS] })]);
    expect(result.text).toContain('apt-get install -y curl\nrm -rf /var/lib/apt/lists/*\nEOF\n');
  });

  test('exec form and a non-POSIX SHELL are left alone, with the reason', () => {
    const text = [
      'FROM python:3.11-slim',
      'RUN ["apt-get", "update"]',
      'SHELL ["pwsh", "-c"]',
      'RUN apt-get update',
      '',
    ].join('\n');
    const result = plan(text, [
      layerFacts(2, { leftovers: [APT_LISTS] }),
      layerFacts(4, { leftovers: [APT_LISTS] }),
    ]);
    expect(result.text).toBe(text);
    expect(result.skipped).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^The RUN at line 2 leaves apt package lists in the image, but it is in exec form/,
        ),
        expect.stringMatching(
          /^The RUN at line 4 leaves apt package lists in the image, but a SHELL instruction/,
        ),
      ]),
    );
  });

  test('only the stages that ship are changed', () => {
    const text = [
      'FROM python:3.11-slim AS build',
      'RUN apt-get update && apt-get install -y gcc',
      'FROM python:3.11-slim',
      'RUN apt-get update && apt-get install -y curl',
      '',
    ].join('\n');
    // Facts come from the built image: the builder's RUN has no layer in it.
    const result = plan(text, [layerFacts(4, { leftovers: [APT_LISTS] })]);
    expect(result.fixes).toEqual([{ rule: 'leftovers', lines: [4] }]);
    expect(result.text.split('\n')[1]).toBe('RUN apt-get update && apt-get install -y gcc');
  });
});

function inputsFinding(line: number): Finding {
  return {
    kind: 'install-inputs',
    title: 'Install inputs left in the image: 2 wheels',
    bytes: 40e6,
    instruction: 'COPY …',
    line,
    fix: '…',
    paths: [],
    layer: line,
    files: 2,
    parts: ['wheels'],
  };
}

const WHEELS = [
  { path: '/tmp/wheels/numpy-2.4.6-cp311-manylinux_2_28_x86_64.whl', size: 17e6, input: true },
  { path: '/tmp/wheels/duckdb-1.5.6-cp311-manylinux_2_28_x86_64.whl', size: 23e6, input: true },
  { path: '/tmp/wheels/requirements.txt', size: 40, input: true },
];

describe('install-inputs', () => {
  const text = [
    'FROM python:3.11-slim',
    'WORKDIR /app',
    'COPY wheels/ /tmp/wheels/',
    'RUN pip install --no-index --find-links /tmp/wheels -r /tmp/wheels/requirements.txt',
    'COPY app/ ./app/',
    'CMD ["python", "-m", "app"]',
    '',
  ].join('\n');
  const facts = [layerFacts(3, { copied: WHEELS, occupied: ['/', '/tmp'] })];

  test('a COPY only later RUNs read becomes a bind mount on those RUNs (BuildKit)', () => {
    const result = plan(text, facts, { findings: [inputsFinding(3)], rules: ['install-inputs'] });
    expect(result.text.split('\n').slice(2, 4)).toEqual([
      '# slimpy: `wheels` is mounted into the RUN at line 4 instead of copied (install-inputs)',
      'RUN --mount=type=bind,source=.slimpy/prune.sh,target=/tmp/slimpy-prune.sh --mount=type=bind,source=wheels,target=/tmp/wheels,rw pip install --no-index --find-links /tmp/wheels -r /tmp/wheels/requirements.txt && sh /tmp/slimpy-prune.sh --prune all',
    ]);
    expect(result.fixes).toEqual([{ rule: 'install-inputs', lines: [3] }]);
    expect(result.notes).toContain(
      'The COPY at line 3 copied install inputs that only the RUN at line 4 reads: that RUN now mounts `wheels` at `/tmp/wheels` (RUN --mount=type=bind), so they are never in a layer.',
    );
  });

  test('on the classic builder it stays a finding', () => {
    const result = plan(text, facts, {
      findings: [inputsFinding(3)],
      rules: ['install-inputs'],
      buildKit: false,
    });
    expect(result.fixes).toEqual([]);
    expect(result.text).toContain('COPY wheels/ /tmp/wheels/');
    expect(result.skipped).toContain(
      'The COPY at line 3 brings install inputs that only later RUNs read; without BuildKit there is no RUN --mount to bring them in instead, so they stay in the image.',
    );
  });

  test.each([
    {
      what: 'CMD names the directory',
      change: (t: string) => t.replace('CMD ["python", "-m", "app"]', 'CMD ["ls", "/tmp/wheels"]'),
      skip: 'line 6 (CMD) names `/tmp/wheels`, so the image may need it after the build',
    },
    {
      what: 'a RUN deletes it',
      change: (t: string) =>
        t.replace('requirements.txt\n', 'requirements.txt && rm -rf /tmp/wheels\n'),
      skip: 'the RUN at line 4 deletes `/tmp/wheels`, which a mount point cannot be',
    },
    {
      what: 'no RUN reads it',
      change: (t: string) => t.replace(/RUN pip install .*\n/, 'RUN pip install numpy\n'),
      skip: 'no later RUN names `/tmp/wheels`, so the app may read it at run time',
    },
  ])('the COPY stays when $what', ({ change, skip }) => {
    const result = plan(change(text), facts, {
      findings: [inputsFinding(3)],
      rules: ['install-inputs'],
    });
    expect(result.fixes).toEqual([]);
    expect(result.skipped).toContain(
      `The COPY at line 3 brings install inputs, but it stays: ${skip}.`,
    );
  });

  test('the COPY stays when it brings code along, or when its target already holds files', () => {
    const withCode = [
      layerFacts(3, {
        copied: [...WHEELS, { path: '/tmp/wheels/setup.py', size: 900, input: false }],
        occupied: ['/'],
      }),
    ];
    const code = plan(text, withCode, { findings: [inputsFinding(3)], rules: ['install-inputs'] });
    expect(code.skipped).toContain(
      'The COPY at line 3 brings install inputs, but it stays: it also brings files the app may need (e.g. `/tmp/wheels/setup.py`); copy the wheels on their own to have them mounted.',
    );
    const occupied = [layerFacts(3, { copied: WHEELS, occupied: ['/', '/tmp', '/tmp/wheels'] })];
    const hidden = plan(text, occupied, {
      findings: [inputsFinding(3)],
      rules: ['install-inputs'],
    });
    expect(hidden.skipped).toContain(
      'The COPY at line 3 brings install inputs, but it stays: `/tmp/wheels` already holds files from an earlier layer, which a mount there would hide.',
    );
  });

  test('relative paths resolve against WORKDIR, and a single wheel is mounted as a file', () => {
    const relative = [
      'FROM python:3.11-slim',
      'WORKDIR /app',
      'COPY dist ./dist',
      'COPY numpy-2.4.6-cp311-manylinux_2_28_x86_64.whl /opt/',
      'RUN pip install dist/*.whl /opt/numpy-2.4.6-cp311-manylinux_2_28_x86_64.whl',
      '',
    ].join('\n');
    const result = plan(
      relative,
      [
        layerFacts(3, {
          copied: [{ path: '/app/dist/a-1.0-py3-none-any.whl', size: 2e6, input: true }],
        }),
        layerFacts(4, {
          copied: [
            { path: WHEELS[0]!.path.replace('/tmp/wheels', '/opt'), size: 17e6, input: true },
          ],
        }),
      ],
      { findings: [inputsFinding(3), inputsFinding(4)], rules: ['install-inputs'] },
    );
    expect(result.fixes).toEqual([{ rule: 'install-inputs', lines: [3, 4] }]);
    expect(result.text).toContain(
      'RUN --mount=type=bind,source=.slimpy/prune.sh,target=/tmp/slimpy-prune.sh --mount=type=bind,source=dist,target=/app/dist,rw --mount=type=bind,source=numpy-2.4.6-cp311-manylinux_2_28_x86_64.whl,target=/opt/numpy-2.4.6-cp311-manylinux_2_28_x86_64.whl,rw pip install',
    );
  });
});

describe('earlier-layers', () => {
  const text = [
    'FROM python:3.11-slim',
    'RUN python3 -m venv /app/.venv',
    'RUN /app/.venv/bin/pip install numpy',
    '',
  ].join('\n');
  const venv = {
    sitePackages: '/app/.venv/lib/python3.11/site-packages',
    venv: true,
    bytes: 25e6,
    packagingBytes: 12e6,
  };

  test('prunes the environment in the RUN that creates it, keeping pip for the RUN that installs', () => {
    const result = plan(text, [layerFacts(2, { environments: [venv] })], {
      rules: ['earlier-layers'],
    });
    expect(result.text.split('\n')[1]).toBe(
      'RUN --mount=type=bind,source=.slimpy/prune.sh,target=/tmp/slimpy-prune.sh python3 -m venv /app/.venv && sh /tmp/slimpy-prune.sh --no-strip --prune tests,pycache,stubs,sources,static-libs,caches /app/.venv',
    );
    // The installing RUN keeps its own prune, with every category: nothing installs after it.
    expect(result.text.split('\n')[2]).toMatch(
      /pip install numpy && sh \/tmp\/slimpy-prune.sh --prune all$/,
    );
    expect(result.fixes).toEqual([{ rule: 'earlier-layers', lines: [2] }]);
    expect(result.usesPruneScript).toBe(true);
    expect(result.notes).toContain(
      "Pruned `/app/.venv` in the RUN at line 2, which creates it: files deleted by a later RUN would still ship in this one's layer. pip, setuptools and wheel stay there: the RUN at line 3 installs with them, so deleting them later would only hide them (create the environment and install into it in one RUN to have them removed).",
    );
  });

  test('with `unused` the RUN that creates the environment keeps pip for the RUN that installs', () => {
    const result = plan(text, [layerFacts(2, { environments: [venv] })], {
      rules: ['earlier-layers'],
      scriptArgs: ['--prune', 'tests,pycache,packaging,unused'],
    });
    expect(result.text.split('\n')[1]).toMatch(
      /python3 -m venv \/app\/.venv && sh \/tmp\/slimpy-prune.sh --no-strip --prune tests,pycache \/app\/.venv$/,
    );
  });

  test('on the classic builder the script is copied in before the RUN and removed after', () => {
    const result = plan(text, [layerFacts(2, { environments: [venv] })], {
      rules: ['earlier-layers'],
      buildKit: false,
    });
    expect(result.text.split('\n').slice(1, 3)).toEqual([
      'COPY .slimpy/prune.sh /tmp/slimpy-prune.sh',
      'RUN python3 -m venv /app/.venv && sh /tmp/slimpy-prune.sh --no-strip --prune tests,pycache,stubs,sources,static-libs,caches /app/.venv && rm -f /tmp/slimpy-prune.sh',
    ]);
  });

  test('an environment created and filled in one RUN needs nothing', () => {
    const one = 'FROM python:3.11-slim\nRUN python3 -m venv /v && /v/bin/pip install numpy\n';
    const result = plan(one, [layerFacts(2, { environments: [venv] })], {
      rules: ['earlier-layers'],
    });
    expect(result.fixes).toEqual([]);
  });
});

describe('the prune in several installing RUNs', () => {
  test('keeps pip and setuptools in all but the last, which a later RUN still installs with', () => {
    const text = [
      'FROM python:3.11-slim',
      'RUN pip install numpy',
      'RUN pip install duckdb',
      '',
    ].join('\n');
    const result = plan(text, [], { rules: [] });
    const lines = result.text.split('\n');
    expect(lines[1]).toMatch(
      /pip install numpy && sh \/tmp\/slimpy-prune.sh --prune tests,pycache,stubs,sources,static-libs,caches$/,
    );
    expect(lines[2]).toMatch(/pip install duckdb && sh \/tmp\/slimpy-prune.sh --prune all$/);
    expect(result.notes).toContain(
      'The prune at line 2 keeps pip, setuptools and wheel: the RUN at line 3 still installs packages.',
    );
  });
});

describe('duplicates', () => {
  const duplicate: Finding = {
    kind: 'duplicate-files',
    title: 'Duplicate content',
    bytes: 5e6,
    instruction: 'COPY --from=builder /venv /venv',
    line: 6,
    fix: '…',
    paths: ['/venv/lib/python3.11/site-packages/scipy.libs/libgfortran-040039e1.so.5.0.0'],
    layer: 4,
    files: 1,
    parts: [],
    duplicate: {
      path: '/venv/lib/python3.11/site-packages/scipy.libs/libgfortran-040039e1.so.5.0.0',
      original: '/venv/lib/python3.11/site-packages/numpy.libs/libgfortran-040039e1.so.5.0.0',
    },
  };
  const text = [
    'FROM python:3.11-slim AS builder',
    'RUN python3 -m venv /venv && /venv/bin/pip install numpy scipy',
    '',
    'FROM python:3.11-slim',
    'ENV PATH=/venv/bin:$PATH',
    'COPY --from=builder /venv /venv',
    '',
  ].join('\n');

  test('duplicates inside an environment the prune covers: the prune links them (--dedupe)', () => {
    const result = plan(text, [], { rules: ['duplicates'], findings: [duplicate] });
    expect(result.text).toContain('sh /tmp/slimpy-prune.sh --prune all --dedupe /venv');
    expect(result.fixes).toEqual([{ rule: 'duplicates', lines: [] }]);
  });

  test('no duplicate in an environment, no change', () => {
    const outside = { ...duplicate, paths: ['/usr/share/big.dat'], duplicate: undefined };
    const result = plan(text, [], { rules: ['duplicates'], findings: [outside] });
    expect(result.text).not.toContain('--dedupe');
    expect(result.fixes).toEqual([]);
  });
});

describe('toolchain', () => {
  test('is registered and plans nothing yet', () => {
    const text = 'FROM python:3.11-slim\nRUN apt-get update && apt-get install -y gcc\n';
    const result = plan(text, [layerFacts(2)], { rules: ['toolchain'] });
    expect(result.text).toBe(text);
    expect(result.fixes).toEqual([]);
  });
});
