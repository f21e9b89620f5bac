/**
 * The `toolchain` fix rule's planning, through planSlim as the pipeline calls it: Dockerfile text
 * and hand-made facts (as src/measure/toolchain-facts.ts measures them) in, the slimmed text and
 * the notes out. Which way is chosen, what the rewrite carries, which packages leave and stay.
 */
import { describe, expect, test } from 'vitest';
import { shortPath } from '../../src/dockerfile/toolchain/plan.js';
import { planSlim, type SlimPlan } from '../../src/dockerfile/plan.js';
import type { FixRule, LayerFacts } from '../../src/model/fixes.js';
import type { ToolchainFacts } from '../../src/model/toolchain.js';
import { layerFacts } from '../support/fix-facts.js';
import { testFinding } from '../support/report.js';

/** The example's facts: gcc, libpq-dev, python3-dev asked for; libpq5 needed by the extension. */
function facts(more: Partial<ToolchainFacts> = {}): ToolchainFacts {
  return {
    manager: 'dpkg',
    loader: 'glibc',
    stagePackages: ['cpp-12', 'gcc', 'gcc-12', 'libpq-dev', 'libpq5', 'libssl-dev', 'python3-dev'],
    requested: ['gcc', 'libpq-dev', 'python3-dev'],
    buildOnly: ['cpp-12', 'gcc', 'gcc-12', 'libpq-dev', 'libssl-dev', 'python3-dev'],
    runtime: [
      {
        name: 'libpq5',
        needs: [
          {
            soname: 'libpq.so.5',
            library: '/lib/x86_64-linux-gnu/libpq.so.5',
            via: 'cache',
            package: 'libpq5',
            by: [
              '/venv/lib/python3.11/site-packages/psycopg2/_psycopg.cpython-311-x86_64-linux-gnu.so',
            ],
            count: 1,
          },
        ],
      },
    ],
    purge: ['gcc', 'libpq-dev', 'python3-dev'],
    keep: ['libpq5'],
    leaving: ['cpp-12', 'gcc', 'gcc-12', 'libpq-dev', 'libssl-dev', 'python3-dev'],
    virtuals: [],
    missing: [],
    shipped: [
      { path: '/app', type: 'dir', uid: 0, gid: 0, mode: 0o755, ownedFiles: 0 },
      { path: '/venv', type: 'dir', uid: 0, gid: 0, mode: 0o755, ownedFiles: 0 },
    ],
    ldconfig: false,
    base: {
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      workdir: '',
      user: '',
    },
    scanned: 1,
    ...more,
  };
}

function layer(line: number, bytes: number, keyword = 'RUN'): LayerFacts {
  return layerFacts(line, { keyword, bytes });
}

function toolchainFinding(line: number) {
  return testFinding({
    kind: 'build-toolchain',
    title: 'Build toolchain in the final image: `gcc`',
    bytes: 224.8e6,
    instruction: 'RUN apt-get install …',
    fix: 'Move this RUN to a builder stage.',
    line,
    keyword: 'RUN',
  });
}

function plan(
  text: string,
  options: {
    installLine: number;
    facts?: ToolchainFacts;
    layers?: LayerFacts[];
    rules?: FixRule[];
    target?: string;
  },
): SlimPlan {
  return planSlim(text, {
    buildKit: true,
    scriptPath: '.slimpy/prune.sh',
    scriptArgs: ['--prune', 'all'],
    target: options.target,
    fixes: {
      rules: options.rules ?? ['toolchain'],
      findings: [toolchainFinding(options.installLine)],
      facts: { layers: options.layers ?? [], toolchain: options.facts ?? facts() },
    },
  });
}

/** The issue's shape: install, COPY requirements, pip install, COPY app. */
const ISSUE_SHAPE = [
  'FROM python:3.11-slim',
  'RUN apt-get update && apt-get install -y gcc libpq-dev python3-dev',
  'COPY requirements.txt .',
  'RUN pip install -r requirements.txt',
  'COPY . .',
  'CMD ["python", "-m", "app"]',
  '',
].join('\n');

describe('same lifetime', () => {
  test('the install moves into the RUN that builds with it, which purges what only the build needs', () => {
    const result = plan(ISSUE_SHAPE, { installLine: 2, layers: [layer(3, 120, 'COPY')] });
    expect(result.text).toBe(
      [
        'FROM python:3.11-slim',
        '# slimpy: this install now runs in the RUN at line 4 (original numbering), which removes its build-only packages at its end',
        'COPY requirements.txt .',
        'RUN --mount=type=bind,source=.slimpy/prune.sh,target=/tmp/slimpy-prune.sh apt-get update && apt-get install -y gcc libpq-dev python3-dev || exit; \\',
        '    pip install -r requirements.txt && sh /tmp/slimpy-prune.sh --prune all && apt-mark manual libpq5 && apt-get purge -y --auto-remove gcc libpq-dev python3-dev',
        'COPY . .',
        'CMD ["python", "-m", "app"]',
        '',
      ].join('\n'),
    );
    expect(result.fixes).toEqual([{ rule: 'toolchain', lines: [2, 4] }]);
    expect(result.notes).toContain(
      "Moved the install at line 2 into the RUN at line 4, which builds with it, and removed the build-only packages at that RUN's end (`apt-mark manual libpq5 && apt-get purge -y --auto-remove gcc libpq-dev python3-dev`): installed and removed in one layer, they never ship.",
    );
    expect(result.notes).toContain('Kept libpq5: needed by psycopg2/_psycopg…so (libpq.so.5).');
    expect(result.notes).toContain(
      'Packages that leave (6, as apt-get simulated it): cpp-12, gcc, gcc-12, libpq-dev, libssl-dev, python3-dev.',
    );
    expect(result.notes).toContain(
      'The install now runs after the COPY at line 3 (1 kB): a change to those files reruns it.',
    );
  });

  test('an install that builds in the same RUN only gets the purge appended', () => {
    const text = 'FROM debian:12\nRUN apt-get install -y gcc libpq-dev && pip install psycopg2\n';
    const result = plan(text, { installLine: 2 });
    expect(result.text).toContain(
      'RUN --mount=type=bind,source=.slimpy/prune.sh,target=/tmp/slimpy-prune.sh apt-get install -y gcc libpq-dev && pip install psycopg2 && sh /tmp/slimpy-prune.sh --prune all && apt-mark manual libpq5 && apt-get purge -y --auto-remove gcc libpq-dev python3-dev\n',
    );
    expect(result.fixes).toEqual([{ rule: 'toolchain', lines: [2] }]);
  });

  test('a WORKDIR and an ENV between the install and its use: the install keeps its directory and variables', () => {
    const text = [
      'FROM debian:12',
      'ENV MODE=build',
      'RUN cd /tmp && apt-get install -y gcc',
      'WORKDIR /src',
      'ENV MODE=run PATH=/venv/bin:$PATH',
      'RUN make',
      '',
    ].join('\n');
    const result = plan(text, { installLine: 3 });
    expect(result.text).toContain(
      "RUN env MODE=build PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin /bin/sh -c 'cd / && cd /tmp && apt-get install -y gcc' || exit; \\\n    make && apt-mark manual libpq5 && apt-get purge -y --auto-remove gcc libpq-dev python3-dev\n",
    );
    expect(result.text).toContain('WORKDIR /src\nENV MODE=run PATH=/venv/bin:$PATH\n');
  });

  test("the install's RUN flags go with it", () => {
    const text = [
      'FROM debian:12',
      'RUN --mount=type=cache,target=/var/cache/apt apt-get install -y gcc',
      'RUN --network=host make',
      '',
    ].join('\n');
    const result = plan(text, { installLine: 2 });
    expect(result.text).toContain(
      'RUN --mount=type=cache,target=/var/cache/apt --network=host apt-get install -y gcc || exit; \\\n    make && apt-mark',
    );
  });

  test('what another rule appends to the install goes to the RUN it moved into', () => {
    const apt = { kind: 'apt-lists', dir: '/var/lib/apt/lists', files: 40, bytes: 45e6 } as const;
    const text = 'FROM debian:12\nRUN apt-get update && apt-get install -y gcc\nRUN make\n';
    const result = plan(text, {
      installLine: 2,
      rules: ['leftovers', 'toolchain'],
      layers: [{ ...layer(2, 300e6), leftovers: [apt] }],
    });
    expect(result.text).toBe(
      [
        'FROM debian:12',
        '# slimpy: this install now runs in the RUN at line 3 (original numbering), which removes its build-only packages at its end',
        'RUN apt-get update && apt-get install -y gcc || exit; \\',
        // The purge before the cleanup: its apt runs would leave fresh caches behind it.
        '    make && apt-mark manual libpq5 && apt-get purge -y --auto-remove gcc libpq-dev python3-dev && rm -rf /var/lib/apt/lists/*',
        '',
      ].join('\n'),
    );
  });
});

describe('builder stage', () => {
  test('a RUN between the install and its use: the stage becomes a builder and a final stage ships', () => {
    const text = [
      'ARG PYTHON_IMAGE=python:3.11-slim',
      'FROM ${PYTHON_IMAGE}',
      'RUN apt-get update && apt-get install -y gcc libpq-dev python3-dev',
      'RUN python3 -m venv /venv',
      'ENV PATH=/venv/bin:$PATH',
      'WORKDIR /app',
      'COPY . .',
      'RUN pip install .',
      'USER nobody',
      'CMD ["pgping"]',
      '',
    ].join('\n');
    const result = plan(text, { installLine: 3, layers: [layer(7, 3000, 'COPY')] });
    expect(result.text).toBe(
      [
        'ARG PYTHON_IMAGE=python:3.11-slim',
        'FROM ${PYTHON_IMAGE} AS slimpy-build',
        'RUN apt-get update && apt-get install -y gcc libpq-dev python3-dev',
        'RUN python3 -m venv /venv',
        'ENV PATH=/venv/bin:$PATH',
        'WORKDIR /app',
        'COPY . .',
        'RUN --mount=type=bind,source=.slimpy/prune.sh,target=/tmp/slimpy-prune.sh pip install . && sh /tmp/slimpy-prune.sh --prune all',
        'USER nobody',
        'CMD ["pgping"]',
        '',
        '# slimpy: stage 0 without its build-only packages: `slimpy-build` builds, this stage ships.',
        'FROM ${PYTHON_IMAGE}',
        'RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libpq5 && rm -rf /var/lib/apt/lists/*',
        'COPY --from=slimpy-build /app /app',
        'COPY --from=slimpy-build /venv /venv',
        'ENV PATH=/venv/bin:$PATH',
        'WORKDIR /app',
        'USER nobody',
        'CMD ["pgping"]',
        '',
      ].join('\n'),
    );
    expect(result.notes).toContain(
      'Made stage 0 (line 2) a builder stage `slimpy-build` and added a final stage FROM the same base that installs only `libpq5` and copies `/app`, `/venv` from it, because the RUN at line 4 runs between the install and its use, and may need the packages.',
    );
    expect(result.fixes).toEqual([{ rule: 'toolchain', lines: [3] }]);
  });

  test('a USER switch between install and use, a named stage and a --target', () => {
    const text = [
      'FROM debian:12 AS app',
      'RUN apt-get install -y gcc curl',
      'USER app',
      'RUN pip install --user .',
      '',
    ].join('\n');
    const shipped = [
      { path: '/home/app', type: 'dir' as const, uid: 1000, gid: 1000, mode: 0o750, ownedFiles: 0 },
      {
        path: '/usr/local/bin/tool',
        type: 'file' as const,
        uid: 0,
        gid: 0,
        mode: 0o755,
        ownedFiles: 0,
      },
      {
        path: '/usr/local/bin/other',
        type: 'file' as const,
        uid: 0,
        gid: 0,
        mode: 0o755,
        ownedFiles: 0,
      },
      {
        path: '/usr/local/bin/link',
        type: 'symlink' as const,
        uid: 0,
        gid: 0,
        mode: 0o777,
        target: 'tool',
        ownedFiles: 0,
      },
      {
        path: '/etc/apt/sources.list.d/pg.list',
        type: 'file' as const,
        uid: 0,
        gid: 0,
        mode: 0o644,
        ownedFiles: 0,
      },
    ];
    const result = plan(text, {
      installLine: 2,
      target: 'app',
      facts: facts({
        requested: ['gcc', 'curl'],
        shipped,
        ldconfig: true,
        base: { env: [], workdir: '', user: 'nobody' },
      }),
    });
    expect(result.text).toBe(
      [
        'FROM debian:12 AS app-build',
        'RUN apt-get install -y gcc curl',
        'USER app',
        'RUN --mount=type=bind,source=.slimpy/prune.sh,target=/tmp/slimpy-prune.sh pip install --user . && sh /tmp/slimpy-prune.sh --prune all',
        '',
        '# slimpy: stage `app` without its build-only packages: `app-build` builds, this stage ships.',
        'FROM debian:12 AS app',
        'USER root',
        'COPY --from=app-build /etc/apt/sources.list.d/pg.list /etc/apt/sources.list.d/pg.list',
        'RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends curl libpq5 && rm -rf /var/lib/apt/lists/*',
        'COPY --from=app-build /home/app /home/app',
        'COPY --from=app-build /usr/local/bin/tool /usr/local/bin/other /usr/local/bin/',
        "RUN chown 1000:1000 '/home/app' && chmod 750 '/home/app' && ln -sfn 'tool' '/usr/local/bin/link' && ldconfig",
        'USER nobody',
        'USER app',
        '',
      ].join('\n'),
    );
    expect(result.buildTarget).toBe('app');
    expect(result.notes.join('\n')).toContain(
      'because the USER at line 3 between the install and its use',
    );
  });

  test("the runtime install reuses the install's cache mounts, and keeps apt's lists out of the layer through them", () => {
    const text = [
      'FROM debian:12',
      'RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \\',
      '    --mount=type=cache,target=/var/lib/apt/lists,sharing=locked \\',
      '    apt-get update && apt-get install -y gcc',
      'RUN useradd app',
      'RUN make',
      '',
    ].join('\n');
    const result = plan(text, { installLine: 2 });
    expect(result.text).toContain(
      'RUN --mount=type=cache,target=/var/cache/apt,sharing=locked --mount=type=cache,target=/var/lib/apt/lists,sharing=locked apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libpq5\n',
    );
  });

  test('a big COPY between install and use: a builder stage, so a code change does not reinstall', () => {
    const text = 'FROM debian:12\nRUN apt-get install -y gcc\nCOPY . .\nRUN make\n';
    const result = plan(text, { installLine: 2, layers: [layer(3, 40e6, 'COPY')] });
    expect(result.fixes).toEqual([{ rule: 'toolchain', lines: [2] }]);
    expect(result.notes.join('\n')).toContain(
      'because the COPY at line 3 (40000 kB) sits between the install and its use',
    );
  });

  test('with the prune in a derived stage too, the stage count still checks out', () => {
    const text = [
      'FROM python:3.11-slim AS deps',
      'RUN python -m venv /venv && /venv/bin/pip install numpy',
      'FROM python:3.11-slim',
      'RUN apt-get install -y gcc',
      'COPY --from=deps /venv /venv',
      'RUN ./build.sh',
      '',
    ].join('\n');
    const result = plan(text, { installLine: 4 });
    expect(result.derived.map((stage) => stage.derivedName)).toEqual(['deps-slimpy']);
    expect(result.text).toContain('FROM python:3.11-slim AS slimpy-build\n');
    expect(result.fixes).toEqual([{ rule: 'toolchain', lines: [4] }]);
  });
});

describe('when the toolchain stays', () => {
  test('every build-only candidate is needed at runtime: the reason and what needs it', () => {
    const result = plan(ISSUE_SHAPE, {
      installLine: 2,
      facts: facts({ buildOnly: [], purge: [] }),
    });
    expect(result.fixes).toEqual([]);
    expect(result.fixSkipped.toolchain).toEqual([
      'The build toolchain installed at line 2 stays in the image: every toolchain package it installed is needed at runtime.',
      'Kept libpq5: needed by psycopg2/_psycopg…so (libpq.so.5).',
    ]);
  });

  test('the stage is named elsewhere: no builder stage, and no same lifetime either', () => {
    const text = [
      'FROM debian:12 AS app',
      'RUN apt-get install -y gcc',
      'USER app',
      'RUN make',
      'FROM app AS test',
      'RUN make test',
      '',
    ].join('\n');
    const result = plan(text, { installLine: 2, target: 'app' });
    expect(result.fixes).toEqual([]);
    expect(result.skipped).toContain(
      'The build toolchain installed at line 2 stays in the image: the USER at line 3 between the install and its use would change how the install runs, and other instructions name stage `app` (line 5), and they would then get the final stage instead.',
    );
  });

  test('the facts could not be measured: the finding says why', () => {
    const result = planSlim(ISSUE_SHAPE, {
      buildKit: true,
      scriptPath: '.slimpy/prune.sh',
      scriptArgs: [],
      fixes: {
        rules: ['toolchain'],
        findings: [toolchainFinding(2)],
        facts: { layers: [], toolchainUnmeasured: 'the image has no python3 or python' },
      },
    });
    expect(result.fixSkipped.toolchain).toEqual([
      'The build toolchain stays in the image: the image has no python3 or python.',
    ]);
  });

  test('no toolchain finding: the rule says nothing', () => {
    const result = planSlim(ISSUE_SHAPE, {
      buildKit: true,
      scriptPath: '.slimpy/prune.sh',
      scriptArgs: [],
      fixes: { rules: ['toolchain'], findings: [], facts: { layers: [], toolchain: facts() } },
    });
    expect(result.fixes).toEqual([]);
    expect(result.fixSkipped.toolchain).toBeUndefined();
  });
});

describe('other package managers (no Alpine or RHEL base can be built on the test engines)', () => {
  test('apk: the virtual package is deleted after the runtime library is added to the world', () => {
    const text =
      'FROM alpine:3.20\nRUN apk add --virtual .build-deps gcc musl-dev postgresql-dev && pip install psycopg2\n';
    const apk = facts({
      manager: 'apk',
      purge: ['.build-deps'],
      keep: ['libpq'],
      leaving: undefined,
      runtime: [{ name: 'libpq', needs: [] }],
    });
    const result = plan(text, { installLine: 2, facts: apk });
    expect(result.text).toContain(
      'pip install psycopg2 && sh /tmp/slimpy-prune.sh --prune all && apk add --no-cache libpq && apk del .build-deps\n',
    );
  });

  test('dnf: runtime packages marked user-installed, build-only ones removed with what they pulled in', () => {
    const text = 'FROM rockylinux:9\nRUN dnf install -y gcc libpq-devel && pip install psycopg2\n';
    const rpm = facts({
      manager: 'rpm',
      purge: ['gcc', 'libpq-devel'],
      keep: ['libpq'],
      leaving: undefined,
    });
    const result = plan(text, { installLine: 2, facts: rpm });
    expect(result.text).toContain('&& dnf mark install libpq && dnf remove -y gcc libpq-devel\n');
  });

  test('microdnf cannot remove dependencies along: a builder stage installs with it instead', () => {
    const text =
      'FROM ubi9/ubi-minimal\nRUN microdnf install -y gcc libpq-devel && pip install psycopg2\n';
    const rpm = facts({
      manager: 'rpm',
      requested: ['gcc', 'libpq-devel'],
      buildOnly: ['gcc', 'libpq-devel'],
    });
    const result = plan(text, { installLine: 2, facts: rpm });
    expect(result.text).toContain('RUN microdnf install -y libpq5 && microdnf clean all\n');
  });
});

test('shortPath names a file by its directory and a shortened extension module name', () => {
  expect(
    shortPath(
      '/venv/lib/python3.11/site-packages/psycopg2/_psycopg.cpython-311-x86_64-linux-gnu.so',
    ),
  ).toBe('psycopg2/_psycopg…so');
  expect(shortPath('/usr/local/bin/app')).toBe('bin/app');
  expect(shortPath('/usr/lib/libfoo.so.1.2')).toBe('lib/libfoo.so.1.2');
});
