import { readdirSync, readFileSync } from 'node:fs';
import { Copy, DockerfileParser, From } from 'dockerfile-ast';
import { describe, expect, test } from 'vitest';
import {
  DockerfileError,
  listStages,
  planSlim,
  type PlanOptions,
  type SlimPlan,
} from '../../src/dockerfile/plan.js';

const FIXTURES = new URL('../fixtures/dockerfiles/', import.meta.url);

function fixture(name: string, file = 'Dockerfile'): string {
  return readFileSync(new URL(`${name}/${file}`, FIXTURES), 'utf8');
}

const fixtureNames = readdirSync(FIXTURES).filter((name) => !name.startsWith('.'));

/** Options a fixture needs beyond the defaults (build args, a target). */
const FIXTURE_OPTIONS: Record<string, Partial<PlanOptions>> = {
  'arg-before-from': { buildArgs: { PY: 'python:3.12-slim' } },
  'target-middle': { target: 'app' },
};

function plan(text: string, options: Partial<PlanOptions> = {}): SlimPlan {
  return planSlim(text, {
    buildKit: true,
    scriptPath: '.slimpy/prune.sh',
    scriptArgs: ['--strip'],
    ...options,
  });
}

function planFixture(name: string, buildKit: boolean): SlimPlan {
  return plan(fixture(name), { buildKit, ...FIXTURE_OPTIONS[name] });
}

const modes = [
  { mode: 'buildkit', buildKit: true },
  { mode: 'classic', buildKit: false },
] as const;

const everyFixtureInEveryMode = fixtureNames.flatMap((name) =>
  modes.map(({ mode, buildKit }) => ({ name, mode, buildKit })),
);

/** Undoes the plan's edits on its output; what comes back must be the original, byte for byte. */
function revert(plan: SlimPlan): string {
  let text = plan.text;
  const edits = [...plan.edits].sort((a, b) => b.offset - a.offset);
  let shift = plan.edits.reduce((sum, edit) => sum + edit.inserted.length - edit.removed.length, 0);
  for (const edit of edits) {
    shift -= edit.inserted.length - edit.removed.length;
    const start = edit.offset + shift;
    expect(text.slice(start, start + edit.inserted.length)).toBe(edit.inserted);
    text = text.slice(0, start) + edit.removed + text.slice(start + edit.inserted.length);
  }
  return text;
}

function toCrlf(text: string): string {
  return text.replace(/\r?\n/g, '\r\n');
}

describe('planSlim on the fixtures', () => {
  test.each(everyFixtureInEveryMode)('$name ($mode) gives the expected Dockerfile', (c) => {
    expect(planFixture(c.name, c.buildKit).text).toBe(
      fixture(c.name, `expected.${c.mode}.Dockerfile`),
    );
  });

  test.each(everyFixtureInEveryMode)(
    '$name ($mode) only inserts text, or swaps a --from value',
    ({ name, buildKit }) => {
      const result = planFixture(name, buildKit);
      expect(revert(result)).toBe(fixture(name));
      for (const edit of result.edits) {
        // Replacements are whole `--from=` values: a stage name or index.
        expect(edit.removed).toMatch(/^(?:|\d+|[A-Za-z][\w.-]*)$/);
      }
    },
  );

  test.each(everyFixtureInEveryMode)(
    '$name ($mode) keeps CRLF line endings in what it inserts',
    ({ name, buildKit }) => {
      const crlf = plan(toCrlf(fixture(name)), { buildKit, ...FIXTURE_OPTIONS[name] });
      expect(crlf.text).toBe(toCrlf(planFixture(name, buildKit).text));
      expect(crlf.text.replace(/\r\n/g, '')).not.toContain('\n');
    },
  );

  test.each(everyFixtureInEveryMode)(
    '$name ($mode) re-parses with every derived stage in place',
    ({ name, buildKit }) => {
      const result = planFixture(name, buildKit);
      const before = listStages(fixture(name));
      const after = listStages(result.text);
      expect(after).toHaveLength(before.length + result.derived.length);
      for (const derived of result.derived) {
        const inserted = after.find((stage) => stage.name === derived.derivedName);
        expect(inserted?.line).toBe(derived.insertedAtLine);
        expect(inserted?.from.toLowerCase()).toBe(derived.stage.toLowerCase());
      }
      // With no target the original last stage is still the one built.
      expect(after.at(-1)?.name).toBe(before.at(-1)?.name);
    },
  );
});

describe('which strategy each fixture gets', () => {
  test.each([
    {
      name: 'arg-before-from',
      strategy: 'derived-stages',
      derived: ['builder-slimpy'],
      sameRun: [],
    },
    { name: 'as-any-case', strategy: 'derived-stages', derived: ['builder-slimpy'], sameRun: [] },
    { name: 'chain', strategy: 'derived-stages', derived: ['builder-tested-slimpy'], sameRun: [] },
    { name: 'comments', strategy: 'derived-stages', derived: ['build-slimpy'], sameRun: [] },
    { name: 'crlf', strategy: 'derived-stages', derived: ['builder-slimpy'], sameRun: [7] },
    { name: 'escape-backtick', strategy: 'same-run', derived: [], sameRun: [4] },
    { name: 'exec-form', strategy: 'none', derived: [], sameRun: [] },
    { name: 'external-image', strategy: 'same-run', derived: [], sameRun: [4] },
    { name: 'heredoc', strategy: 'same-run', derived: [], sameRun: [3, 7] },
    {
      name: 'index-reference',
      strategy: 'derived-stages',
      derived: ['stage-0-slimpy'],
      sameRun: [],
    },
    { name: 'line-continuations', strategy: 'same-run', derived: [], sameRun: [7] },
    { name: 'mount-from', strategy: 'same-run', derived: [], sameRun: [5] },
    { name: 'no-python', strategy: 'none', derived: [], sameRun: [] },
    { name: 'platform-flag', strategy: 'derived-stages', derived: ['builder-slimpy'], sameRun: [] },
    {
      name: 'several-copies',
      strategy: 'derived-stages',
      derived: ['builder-slimpy'],
      sameRun: [],
    },
    { name: 'single-stage', strategy: 'same-run', derived: [], sameRun: [4] },
    { name: 'syntax-directive', strategy: 'derived-stages', derived: ['deps-slimpy'], sameRun: [] },
    { name: 'target-middle', strategy: 'derived-stages', derived: ['builder-slimpy'], sameRun: [] },
    { name: 'tools-stage', strategy: 'derived-stages', derived: ['builder-slimpy'], sameRun: [] },
    { name: 'user-switch', strategy: 'derived-stages', derived: ['builder-slimpy'], sameRun: [11] },
  ])('$name: $strategy', ({ name, strategy, derived, sameRun }) => {
    const result = planFixture(name, true);
    expect(result.strategy).toBe(strategy);
    expect(result.derived.map((stage) => stage.derivedName)).toEqual(derived);
    expect(result.sameRun.map((run) => run.line)).toEqual(sameRun);
  });

  test('every fixture is in the strategy table', () => {
    expect(fixtureNames).toHaveLength(20);
  });
});

describe('derived stages', () => {
  test('resolve ARGs declared before FROM, with build args overriding their defaults', () => {
    const text = fixture('arg-before-from');
    expect(listStages(text).map((stage) => stage.from)).toEqual([
      'python:3.11-slim',
      'python:3.11-slim',
    ]);
    expect(listStages(text, { PY: 'python:3.12-slim' }).map((stage) => stage.from)).toEqual([
      'python:3.12-slim',
      'python:3.12-slim',
    ]);
  });

  test('one derived stage serves several COPY --from of the same stage, over the union of their roots', () => {
    const [derived, ...others] = planFixture('several-copies', true).derived;
    expect(others).toEqual([]);
    expect(derived).toEqual({
      stage: 'builder',
      derivedName: 'builder-slimpy',
      // Relative COPY --from sources are rooted at /, not at the stage's WORKDIR (/src).
      roots: ['/venv', '/srv/static', '/usr/local/lib/python3.11/site-packages'],
      line: 1,
      copyLines: [7, 8, 9, 10],
      insertedAtLine: 7,
    });
  });

  test('COPY --from values in the final stage now name the derived stage', () => {
    const text = planFixture('several-copies', true).text;
    const froms = DockerfileParser.parse(text)
      .getInstructions()
      .filter((instruction): instruction is Copy => instruction instanceof Copy)
      .flatMap((copy) => copy.getFlags().filter((flag) => flag.getName() === 'from'))
      .map((flag) => flag.getValue());
    expect(froms).toEqual(['builder-slimpy', 'builder-slimpy', 'builder-slimpy', 'builder-slimpy']);
  });

  test('a stage referenced by index gets a name, and later indices still reach the same stages', () => {
    const result = planFixture('index-reference', true);
    const after = listStages(result.text);
    expect(after.map((stage) => stage.name)).toEqual([
      'stage-0',
      undefined,
      'stage-0-slimpy',
      'base',
      undefined,
    ]);
    // `--from=1` (alpine) is before the insertion; `--from=2` (base) moved to 3.
    expect(result.text).toContain('COPY --from=1 /etc/ssl/certs /etc/ssl/certs');
    expect(result.text).toContain('COPY --from=3 /site /also-site');
    expect(after[3]?.name).toBe('base');
    expect(result.notes.join('\n')).toMatch(/Renumbered the stage index 2 at line 12 to 3/);
  });

  test('the derived name never collides with an existing stage', () => {
    const text = [
      'FROM python:3.11 AS builder',
      'RUN pip install flask',
      'FROM alpine AS builder-slimpy',
      'FROM python:3.11-slim',
      'COPY --from=builder /usr/local/lib/python3.11 /usr/local/lib/python3.11',
      '',
    ].join('\n');
    expect(plan(text).derived.map((stage) => stage.derivedName)).toEqual(['builder-slimpy-2']);
  });

  test('the prune runs as root in a stage that switched USER, then switches back', () => {
    const result = planFixture('user-switch', true);
    expect(result.text).toContain(
      [
        'FROM builder AS builder-slimpy',
        'USER root',
        'RUN --mount=type=bind,source=.slimpy/prune.sh,target=/tmp/slimpy-prune.sh sh /tmp/slimpy-prune.sh --strip /home/app/venv',
        'USER app',
      ].join('\n'),
    );
  });

  test('a USER that only an ARG of the source stage can expand is not restored', () => {
    const text = [
      'FROM python:3.11 AS builder',
      'ARG UID',
      'USER ${UID}',
      'RUN python -m venv /venv',
      'FROM python:3.11-slim',
      'COPY --from=builder /venv /venv',
      '',
    ].join('\n');
    const derivedStage = plan(text).text.split('FROM builder AS builder-slimpy\n')[1] ?? '';
    expect(derivedStage.split('\n').slice(0, 3)).toEqual([
      'USER root',
      'RUN --mount=type=bind,source=.slimpy/prune.sh,target=/tmp/slimpy-prune.sh sh /tmp/slimpy-prune.sh --strip /venv',
      '',
    ]);
  });

  test('roots are shell-quoted unless they are plain paths or globs', () => {
    const text = [
      'FROM python:3.11 AS builder',
      'RUN pip install --prefix "/opt/my env" flask',
      'FROM python:3.11-slim',
      'COPY --from=builder ["/opt/my env", "/usr/local/lib/python3.*/site-packages", "/x"]',
      '',
    ].join('\n');
    expect(plan(text, { scriptArgs: ['--keep', "it's"] }).text).toContain(
      "sh /tmp/slimpy-prune.sh --keep 'it'\\''s' '/opt/my env' /usr/local/lib/python3.*/site-packages\n",
    );
  });

  test('a stage copied from but holding no Python is left alone, and said so', () => {
    const result = planFixture('tools-stage', true);
    expect(result.skipped).toEqual([
      'Stage `gotools` is copied from (line 11) but holds no Python environment, so it is left as it is.',
      'Stage `lint` (line 4) installs Python packages, but nothing from it reaches the final image, so it is left as it is.',
    ]);
    expect(result.text).toContain('COPY --from=gotools /go/bin/healthcheck');
  });

  test('COPY --from of an external image is left alone, and said so', () => {
    const result = planFixture('external-image', true);
    expect(result.text).toContain('COPY --from=ghcr.io/astral-sh/uv:0.4 /uv /bin/uv');
    expect(result.skipped).toEqual([
      'COPY --from=ghcr.io/astral-sh/uv:0.4 at line 2 copies from an image built elsewhere; slimpy leaves it as it is.',
    ]);
  });

  test('a Python base image alone does not make an unrelated copied path prunable', () => {
    const result = planFixture('index-reference', true);
    expect(result.skipped).toContain(
      'Stage `base` builds on `python:3.11-slim`, but what is copied from it (line 12) holds no Python packages, so it is left as it is.',
    );
  });

  test('the note says which stage was added and why', () => {
    expect(planFixture('comments', true).notes).toEqual([
      'Added stage `build-slimpy` (FROM build) before the stage at line 12 and pointed the COPY --from at line 14 to it, because stage `build` holds a Python environment (its RUN at line 6 installs Python packages); stage `build` itself is unchanged, so its build cache is reused.',
    ]);
  });
});

describe('several sources, variables and shells', () => {
  const text = [
    'FROM python:3.11 AS a',
    'RUN pip install x',
    'FROM python:3.11 AS b',
    'RUN pip install y',
    'FROM python:3.11-slim',
    'ARG SOURCE',
    'COPY --from=a /venv /venv',
    'COPY --from=b /usr/local/lib/python3.11/site-packages /s',
    'COPY --from=$SOURCE /q /q',
    '',
  ].join('\n');

  test('two derived stages before one FROM are separated by a single blank line', () => {
    const mount = '--mount=type=bind,source=.slimpy/prune.sh,target=/tmp/slimpy-prune.sh';
    expect(plan(text).text).toBe(
      [
        'FROM python:3.11 AS a',
        'RUN pip install x',
        'FROM python:3.11 AS b',
        'RUN pip install y',
        '',
        '# slimpy: a with its Python files pruned; the final image copies from here.',
        'FROM a AS a-slimpy',
        `RUN ${mount} sh /tmp/slimpy-prune.sh --strip /venv`,
        '',
        '# slimpy: b with its Python files pruned; the final image copies from here.',
        'FROM b AS b-slimpy',
        `RUN ${mount} sh /tmp/slimpy-prune.sh --strip /usr/local/lib/python3.11/site-packages`,
        '',
        'FROM python:3.11-slim',
        'ARG SOURCE',
        'COPY --from=a-slimpy /venv /venv',
        'COPY --from=b-slimpy /usr/local/lib/python3.11/site-packages /s',
        'COPY --from=$SOURCE /q /q',
        '',
      ].join('\n'),
    );
  });

  test('a --from naming its stage through an unresolved variable is left alone, and said so', () => {
    expect(plan(text).skipped).toEqual([
      'COPY --from=$SOURCE at line 9 names its source through a variable slimpy could not resolve; pass it as a build arg to have that stage slimmed.',
    ]);
  });

  test('with the build arg, that --from is followed and pointed at the derived stage', () => {
    const result = plan(text, { buildArgs: { SOURCE: 'a' } });
    expect(result.text).toContain('COPY --from=a-slimpy /q /q');
    expect(result.derived.find((stage) => stage.stage === 'a')?.roots).toEqual(['/venv', '/q']);
  });

  test('a source stage with a non-POSIX SHELL is left alone, and said so', () => {
    const pwsh = [
      'FROM python:3.11 AS builder',
      'SHELL ["pwsh", "-Command"]',
      'RUN pip install flask',
      'FROM python:3.11-slim',
      'COPY --from=builder /usr/local/lib/python3.11 /usr/local/lib/python3.11',
      '',
    ].join('\n');
    const result = plan(pwsh);
    expect(result.text).toBe(pwsh);
    expect(result.skipped).toEqual([
      'Stage `builder` sets a SHELL that is not a POSIX shell, so slimpy cannot run its prune script there.',
    ]);
  });
});

describe('same-run pruning', () => {
  test('explains why the prune goes inside the installing RUN', () => {
    const result = planFixture('single-stage', true);
    expect(result.notes).toHaveLength(1);
    expect(result.notes[0]).toContain(
      'files deleted in a later layer still ship in the earlier one, so the prune runs inside the installing RUN',
    );
  });

  test('the classic builder gets a COPY of the script, removed again in the same RUN, and a note on its cost', () => {
    const result = planFixture('single-stage', false);
    expect(result.text).toContain(
      'COPY .slimpy/prune.sh /tmp/slimpy-prune.sh\nRUN pip install --no-cache-dir -r requirements.txt && sh /tmp/slimpy-prune.sh --strip && rm -f /tmp/slimpy-prune.sh\n',
    );
    expect(result.notes.join(' ')).toContain('~20 kB layer');
  });

  test('under a non-root USER the classic COPY hands the script to that user, who must delete it from sticky /tmp', () => {
    expect(planFixture('user-switch', false).text).toContain(
      'COPY --chown=app .slimpy/prune.sh /tmp/slimpy-prune.sh\nRUN /home/app/venv/bin/pip',
    );
  });

  test('a heredoc script gets the prune as its last line, before the terminator', () => {
    expect(planFixture('heredoc', true).text).toContain(
      'set -eu\npip install --no-cache-dir httpx\nsh /tmp/slimpy-prune.sh --strip\nEOF\n',
    );
  });

  test('a heredoc fed to a command gets the prune on the command line', () => {
    expect(planFixture('heredoc', true).text).toContain(
      'python -m pip install rich <<EOF && echo installed && sh /tmp/slimpy-prune.sh --strip\nunused input\nEOF\n',
    );
  });

  test('the escape directive is respected: the prune goes after the last backtick-continued line', () => {
    expect(planFixture('escape-backtick', true).text).toBe(
      '# escape=`\nFROM python:3.11-slim\nWORKDIR C:/app\nRUN --mount=type=bind,source=.slimpy/prune.sh,target=/tmp/slimpy-prune.sh pip install `\n    numpy `\n    pandas && sh /tmp/slimpy-prune.sh --strip\nCOPY . .\n',
    );
  });

  test.each([
    {
      why: 'exec form',
      run: 'RUN ["pip", "install", "flask"]',
      skipped: 'it is in exec form (a JSON array)',
    },
    {
      why: 'a trailing shell comment',
      run: 'RUN pip install flask # pinned',
      skipped: 'its command contains a shell comment (#)',
    },
    {
      why: 'a background job',
      run: 'RUN pip install flask &',
      skipped: 'its command ends in a background job (&)',
    },
    {
      why: 'a Python heredoc',
      run: 'RUN <<EOF\n#!/usr/bin/env python3\nimport os; os.system("pip install flask")\nEOF',
      skipped: 'its here-document is a #!/usr/bin/env python3 script',
    },
    {
      why: 'a non-POSIX SHELL',
      run: 'SHELL ["pwsh", "-Command"]\nRUN pip install flask',
      skipped: 'a SHELL instruction replaced the POSIX shell',
    },
  ])('a RUN with $why is skipped with the reason', ({ run, skipped }) => {
    const text = `FROM python:3.11-slim\n${run}\n`;
    const result = plan(text);
    expect(result.text).toBe(text);
    expect(result.strategy).toBe('none');
    expect(result.skipped).toHaveLength(1);
    expect(result.skipped[0]).toContain(skipped);
  });

  test('a command ending in ; gets the prune without a dangling &&', () => {
    expect(plan('FROM python:3.11\nRUN pip install flask;\n').text).toBe(
      'FROM python:3.11\nRUN --mount=type=bind,source=.slimpy/prune.sh,target=/tmp/slimpy-prune.sh pip install flask; sh /tmp/slimpy-prune.sh --strip\n',
    );
  });

  test('a file without a final newline still gets its prune appended', () => {
    expect(plan('FROM python:3.11\nRUN pip install flask', { buildKit: false }).text).toBe(
      'FROM python:3.11\nCOPY .slimpy/prune.sh /tmp/slimpy-prune.sh\nRUN pip install flask && sh /tmp/slimpy-prune.sh --strip && rm -f /tmp/slimpy-prune.sh',
    );
  });

  test('a syntax line pinned below 1.2 has no RUN --mount, so the script is copied in', () => {
    const result = plan(
      '# syntax=docker/dockerfile:1.1\nFROM python:3.11\nRUN pip install flask\n',
    );
    expect(result.text).toContain('COPY .slimpy/prune.sh /tmp/slimpy-prune.sh\n');
    expect(result.text).not.toContain('--mount');
    expect(result.notes[0]).toMatch(/pins a Dockerfile frontend without RUN --mount/);
  });
});

describe('the final stage and the build target', () => {
  test('with a middle stage as target, only its chain is slimmed and the target is passed on', () => {
    const result = planFixture('target-middle', true);
    expect(result.finalStage).toEqual({ index: 1, name: 'app', line: 4 });
    expect(result.buildTarget).toBe('app');
    // The `debug` stage after the target is not built: its pip install is not touched.
    expect(result.text).toContain('FROM app AS debug\nRUN pip install debugpy\n');
  });

  test('the target matches stage names case-insensitively, as Docker does', () => {
    expect(plan(fixture('target-middle'), { target: 'APP' }).finalStage.index).toBe(1);
  });

  test('without a target the last stage is final and no target is needed', () => {
    const result = planFixture('chain', true);
    expect(result.finalStage).toEqual({ index: 2, line: 7 });
    expect(result.buildTarget).toBeUndefined();
  });

  test('a final stage built FROM another stage ships that stage too, so its installs are pruned in place', () => {
    const text = 'FROM python:3.11 AS base\nRUN pip install flask\nFROM base\nCOPY app.py .\n';
    const result = plan(text);
    expect(result.strategy).toBe('same-run');
    expect(result.sameRun).toEqual([{ line: 2 }]);
  });

  test('a Python base image without installs leaves nothing to prune', () => {
    const text = 'FROM python:3.12-slim\nCOPY app.py .\nCMD ["python", "app.py"]\n';
    const result = plan(text);
    expect(result).toMatchObject({ strategy: 'none', text, derived: [], sameRun: [] });
    expect(result.skipped).toEqual([
      'The final stage 0 installs no Python packages itself, so its Python comes from the base image `python:3.12-slim`, whose layers a rebuild cannot shrink.',
    ]);
  });

  test('a Dockerfile with no Python at all is returned unchanged, with the reason', () => {
    const text = fixture('no-python');
    const result = plan(text);
    expect(result).toMatchObject({ strategy: 'none', text, edits: [] });
    expect(result.skipped).toEqual([
      'Stage `build` is copied from (line 8) but holds no Python environment, so it is left as it is.',
      'Nothing in the final stage 2 or the stages it copies from installs Python packages, so there is nothing to prune.',
    ]);
  });
});

describe('errors', () => {
  test.each([
    { why: 'an empty file', text: '  \n', message: /the Dockerfile is empty/ },
    { why: 'no FROM', text: '# nothing\nARG X=1\n', message: /no FROM instruction found/ },
    {
      why: 'RUN before FROM',
      text: 'RUN echo\nFROM alpine\n',
      message: /line 1: RUN appears before the first FROM/,
    },
    { why: 'FROM without an image', text: 'FROM\n', message: /line 1: FROM names no image/ },
  ])('$why is a DockerfileError', ({ text, message }) => {
    expect(() => plan(text)).toThrow(DockerfileError);
    expect(() => plan(text)).toThrow(message);
  });

  test('an unknown target lists the stage names', () => {
    const error = (() => {
      try {
        plan(fixture('tools-stage'), { target: 'prod' });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(DockerfileError);
    expect((error as Error).message).toBe(
      'build target "prod" is not a stage in this Dockerfile (stages: gotools, lint, builder); pass one of those names, or no target to build the last stage',
    );
  });

  test('the error carries the line number', () => {
    expect(() => plan('FROM alpine\nFROM\n')).toThrow(expect.objectContaining({ line: 2 }));
  });

  test.each(['/abs/prune.sh', '../prune.sh', 'my prune.sh', 'a,b.sh'])(
    'script path %j is refused',
    (scriptPath) => {
      expect(() => plan('FROM python:3\n', { scriptPath })).toThrow(/relative POSIX path/);
    },
  );
});

describe('the result stays valid Docker', () => {
  test('every derived FROM names an earlier stage, by name', () => {
    for (const name of fixtureNames) {
      const ast = DockerfileParser.parse(planFixture(name, true).text);
      const froms = ast.getInstructions().filter((i): i is From => i instanceof From);
      const names = froms.map((from) => from.getBuildStage()?.toLowerCase());
      froms.forEach((from, index) => {
        const image = from.getImage() ?? '';
        if (image.endsWith('-slimpy') || names.includes(image.toLowerCase())) {
          expect(names.slice(0, index)).toContain(image.toLowerCase());
        }
      });
    }
  });
});
