import { describe, expect, it } from 'vitest';
import { commentMarker, GITHUB_COMMENT_LIMIT, renderReport } from '../../src/report/markdown.js';
import type { ImageMeasurement, SlimpyReport, SmokeRun } from '../../src/model/report.js';
import { testEngine, testReport } from '../support/report.js';

const MB = 1_000_000;
const options = { commentKey: 'examples/pyarrow-duckdb/Dockerfile' };

function image(overrides: Partial<ImageMeasurement>): ImageMeasurement {
  return {
    id: 'sha256:1111111111111111111111111111111111111111111111111111111111111111',
    size: 472.1 * MB,
    compressed: 182.3 * MB,
    layers: [
      {
        diffId: 'sha256:b1',
        size: 74.8 * MB,
        compressed: 28.2 * MB,
        createdBy: '/bin/sh -c #(nop) ADD file:… in /',
        base: true,
      },
      {
        diffId: 'sha256:b2',
        size: 40.1 * MB,
        compressed: 12.9 * MB,
        createdBy: 'RUN /bin/sh -c set -eux; apt-get update',
        base: true,
      },
      {
        diffId: 'sha256:o1',
        size: 355.7 * MB,
        compressed: 140.1 * MB,
        createdBy: 'RUN pip install -r requirements.txt',
        base: false,
      },
      {
        diffId: 'sha256:o2',
        size: 1.5 * MB,
        compressed: 1.1 * MB,
        createdBy: 'COPY app /app',
        base: false,
      },
    ],
    largestFiles: [
      { path: '/venv/lib/python3.12/site-packages/pyarrow/libarrow.so.2500', size: 53 * MB },
      {
        path: '/venv/lib/python3.12/site-packages/duckdb/duckdb.cpython-312-x86_64-linux-gnu.so',
        size: 48.2 * MB,
      },
    ],
    baseSize: 114.9 * MB,
    ownSize: 357.2 * MB,
    ...overrides,
  };
}

function smokeRun(overrides: Partial<SmokeRun>): SmokeRun {
  return {
    image: 'before',
    command: ['python', '-c', 'import duckdb, pyarrow'],
    exitCode: 0,
    passed: true,
    timedOut: false,
    output: '',
    medianMs: 1200,
    runsMs: [1190, 1200, 1210, 1180, 1220],
    ...overrides,
  };
}

const PATCH = [
  '--- a/examples/pyarrow-duckdb/Dockerfile',
  '+++ b/examples/pyarrow-duckdb/Dockerfile',
  '@@ -5,3 +5,4 @@',
  ' RUN pip install -r requirements.txt',
  '+RUN sh /slimpy/prune.sh --strip --prune tests,pycache,stubs',
  '',
].join('\n');

function slimReport(overrides: Partial<SlimpyReport> = {}): SlimpyReport {
  return testReport({
    dockerfile: 'examples/pyarrow-duckdb/Dockerfile',
    engine: testEngine({ version: '20.10.24+dfsg1', apiVersion: '1.41' }),
    before: image({}),
    after: image({
      id: 'sha256:2222222222222222222222222222222222222222222222222222222222222222',
      size: 331 * MB,
      compressed: 120 * MB,
      largestFiles: [
        { path: '/venv/lib/python3.12/site-packages/pyarrow/libarrow.so.2500', size: 38.1 * MB },
      ],
    }),
    slim: {
      strategy: 'derived-stages',
      notes: ['The final stage copies `/venv` from the `builder` stage; slimpy prunes it there.'],
      skipped: ['`static-libs` removal was not asked for.'],
      variant: { strip: true, prune: ['tests', 'pycache', 'stubs'] },
      savings: [
        { category: 'strip', files: 212, bytes: 30.1 * MB },
        { category: 'tests', files: 1834, bytes: 61.2 * MB },
        { category: 'pycache', files: 4102, bytes: 44.9 * MB },
        { category: 'stubs', files: 633, bytes: 4.9 * MB },
      ],
      strippedTop: [
        {
          path: '/venv/lib/python3.12/site-packages/pyarrow/libarrow.so.2500',
          before: 53 * MB,
          after: 38.1 * MB,
        },
      ],
      dockerfilePath: 'slimpy-out/Dockerfile.slim',
      patchPath: 'slimpy-out/slimpy.patch',
      patch: PATCH,
      warnings: [],
    },
    smoke: {
      command: ['python', '-c', 'import duckdb, pyarrow'],
      before: smokeRun({ image: 'before' }),
      after: smokeRun({ image: 'after', medianMs: 2000, output: 'ok\n' }),
      coldStartDeltaMs: 800,
      coldStartSpreadMs: 40,
    },
    budget: { metric: 'compressed', limit: 150 * MB, actual: 120 * MB, over: false },
    ...overrides,
  });
}

/** Tables: runs of lines starting with `|`. */
function tables(body: string): string[][] {
  const found: string[][] = [];
  let current: string[] = [];
  for (const line of body.split('\n')) {
    if (line.startsWith('|')) {
      current.push(line);
    } else if (current.length > 0) {
      found.push(current);
      current = [];
    }
  }
  if (current.length > 0) found.push(current);
  return found;
}

function unescapedPipes(line: string): number {
  return [...line.matchAll(/(?<!\\)\|/g)].length;
}

/** The body with fenced code blocks removed (their content is inert by construction). */
function outsideCodeBlocks(body: string): string {
  const out: string[] = [];
  let fence: string | undefined;
  for (const line of body.split('\n')) {
    const match = /^(`{3,})/.exec(line);
    if (fence === undefined && match?.[1]) {
      fence = match[1];
    } else if (fence !== undefined && line.startsWith(fence) && line.trim() === fence) {
      fence = undefined;
    } else if (fence === undefined) {
      out.push(line);
    }
  }
  expect(fence, 'every code block is closed').toBeUndefined();
  return out.join('\n');
}

/** Structure every rendering must keep, whatever the input. */
function expectWellFormed(body: string): void {
  expect(body.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
  for (const table of tables(body)) {
    const header = table[0] ?? '';
    for (const row of table) expect(unescapedPipes(row), row).toBe(unescapedPipes(header));
  }
  const prose = outsideCodeBlocks(body);
  const tags = [...prose.matchAll(/<\/?([a-zA-Z][\w-]*)/g)].map((m) => m[1]);
  expect(new Set(tags)).toEqual(
    new Set(tags.filter((t) => ['details', 'summary', 'code', 'sub'].includes(t ?? ''))),
  );
  expect(prose.split('<details>').length).toBe(prose.split('</details>').length);
  expect(prose.split('<code>').length).toBe(prose.split('</code>').length);
  expect(prose.match(/<!--/g)).toHaveLength(1);
}

describe('renderReport: a slimmed image', () => {
  const body = renderReport(slimReport(), options);

  it('starts with the hidden marker', () => {
    expect(body.startsWith('<!-- slimpy:examples/pyarrow-duckdb/Dockerfile -->\n')).toBe(true);
  });

  it('says what happened in one sentence', () => {
    expect(body).toContain(
      '**slimpy**: <code>examples/pyarrow-duckdb/Dockerfile</code> shrinks from 472.1 MB to 331.0 MB (−29.9%) and still passes its smoke test.',
    );
  });

  it('tabulates before, after and the change', () => {
    expect(body).toContain('| Image | Size | Compressed |');
    expect(body).toContain('| before | 472.1 MB | 182.3 MB |');
    expect(body).toContain('| after | 331.0 MB | 120.0 MB |');
    expect(body).toContain('| **Δ** | **−141.1 MB (−29.9%)** | **−62.3 MB (−34.2%)** |');
  });

  it('names the biggest contributors and what each category removes', () => {
    expect(body).toContain(
      '| <code>/venv/lib/python3.12/site-packages/pyarrow/libarrow.so.2500</code> | 53.0 MB → 38.1 MB | 14.9 MB |',
    );
    expect(body).toContain(
      '| <code>tests</code> | 1,834 | 61.2 MB | package directories named exactly `tests` or `test`',
    );
    expect(body).toContain('| <code>strip</code> | 212 | 30.1 MB | debug symbols stripped');
    // Sorted by bytes saved.
    expect(body.indexOf('<code>tests</code> | 1,834')).toBeLessThan(
      body.indexOf('<code>pycache</code> | 4,102'),
    );
    expect(body.indexOf('<code>pycache</code> | 4,102')).toBeLessThan(
      body.indexOf('<code>strip</code> | 212'),
    );
  });

  it('adds the rows up beside the measured change', () => {
    expect(body).toContain(
      '| **total** | 6,781 | **141.1 MB** | the image is 141.1 MB smaller, as measured |',
    );
  });

  it('puts largest files and layers in a collapsed block, base layers as one row', () => {
    expect(body).toContain(
      '<details><summary>Largest files and layers of the slimmed image</summary>',
    );
    expect(body).toContain('| base image (2 layers) | 114.9 MB | 41.1 MB |');
    expect(body).toContain(
      '| <code>RUN pip install -r requirements.txt</code> | 355.7 MB | 140.1 MB |',
    );
    expect(body).toContain(
      '| <code>/venv/lib/python3.12/site-packages/pyarrow/libarrow.so.2500</code> | 38.1 MB |',
    );
  });

  it('shows the smoke test: command, results, cold start and output', () => {
    expect(body).toContain('<code>python -c &#39;import duckdb, pyarrow&#39;</code>');
    expect(body).toContain('| before | ✅ passed | 0 | 1.2 s |');
    expect(body).toContain('| after | ✅ passed | 0 | 2.0 s |');
    expect(body).toContain(
      'Cold start: imports take +0.8 s without bytecode (median of 5 runs each; the runs of one image vary by up to 40 ms).',
    );
    expect(body).toContain(
      '<details><summary>Output on the slimmed image</summary>\n\n```text\nok\n```\n\n</details>',
    );
  });

  it('calls a cold-start delta inside the spread of the runs no measurable change', () => {
    const smoke = { ...slimReport().smoke!, coldStartDeltaMs: 30, coldStartSpreadMs: 120 };
    expect(renderReport(slimReport({ smoke }), options)).toContain(
      'Cold start: no measurable change without bytecode (+30 ms, inside the 0.1 s the runs of one image vary by; median of 5 runs each).',
    );
  });

  it('says nothing about cold start when no bytecode was removed', () => {
    const report = slimReport();
    report.slim!.savings = report.slim!.savings.filter((saving) => saving.category !== 'pycache');
    expect(renderReport(report, options)).not.toContain('Cold start');
  });

  it('says what the run cost, step by step', () => {
    const timings = {
      totalSeconds: 48.2,
      steps: [
        { step: 'Build the image', seconds: 22, startSeconds: 0.1 },
        { step: 'Build the slimmed image', seconds: 20.5, startSeconds: 22.2, overlapped: true },
        { step: 'Measure the image', seconds: 6.1, startSeconds: 22.2 },
      ],
    };
    expect(renderReport(slimReport({ timings }), options)).toContain(
      '<sub>slimpy took 48.2 s: Build the image 22.0 s · Build the slimmed image 20.5 s (in parallel) · Measure the image 6.1 s.</sub>',
    );
  });

  it('offers the patch as a diff', () => {
    expect(body).toContain('#### Make it permanent');
    expect(body).toContain('(saved as <code>slimpy-out/slimpy.patch</code>)');
    expect(body).toContain('```diff\n--- a/examples/pyarrow-duckdb/Dockerfile\n');
    expect(body).toContain('+RUN sh /slimpy/prune.sh --strip --prune tests,pycache,stubs\n```');
  });

  it('says what it left alone and why, with code spans kept', () => {
    expect(body).toContain(
      '#### What slimpy left alone\n\n- <code>static-libs</code> removal was not asked for.',
    );
    expect(body).toContain(
      '- The final stage copies <code>/venv</code> from the <code>builder</code> stage; slimpy prunes it there.',
    );
  });

  it('gives the budget verdict and the engine', () => {
    expect(body).toContain('✅ **Budget**: 120.0 MB compressed is within the 150.0 MB limit.');
    expect(body).toContain(
      '<sub>Engine: Docker 20.10.24+dfsg1 (API 1.41) · classic store (overlay2) · BuildKit · report v1</sub>',
    );
  });

  it('keeps the sections in order', () => {
    const order = [
      '<!-- slimpy:',
      '**slimpy**:',
      '| Image |',
      '#### Where the bytes went',
      '<details><summary>Largest files',
      '#### Smoke test',
      '#### Make it permanent',
      '#### What slimpy left alone',
      '#### Why',
      '#### Verdict',
      '<sub>Engine:',
    ].map((marker) => body.indexOf(marker));
    expect(order.every((index) => index >= 0)).toBe(true);
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });

  it('is well formed', () => {
    expectWellFormed(body);
  });
});

describe('renderReport: other outcomes', () => {
  it('measure mode: one image, no change row, no patch', () => {
    const report = slimReport({ mode: 'measure', after: undefined, slim: undefined });
    report.smoke = { command: ['python', '-c', 'import duckdb'], before: smokeRun({}) };
    const body = renderReport(report, options);
    expect(body).toContain(
      '**slimpy**: <code>examples/pyarrow-duckdb/Dockerfile</code> measures 472.1 MB (182.3 MB compressed) and passes its smoke test.',
    );
    expect(body).toContain('| this image | 472.1 MB | 182.3 MB |');
    expect(body).not.toContain('| after |');
    expect(body).not.toContain('**Δ**');
    expect(body).not.toContain('Make it permanent');
    expect(body).not.toContain('Where the bytes went');
    expect(body).toContain('<details><summary>Largest files and layers of the image</summary>');
    expect(body).toContain('| this image | ✅ passed | 0 | 1.2 s |');
    expectWellFormed(body);
  });

  it('measure mode against a base commit: base row and change', () => {
    const report = slimReport({
      mode: 'measure',
      after: undefined,
      slim: undefined,
      smoke: undefined,
      growth: {
        baseSha: '4e2a9d1c7b3f5a8e0d6c2b9f1a7e3d5c8b0f2a46',
        baseSize: 470 * MB,
        actual: 472.1 * MB,
        allowed: 5 * MB,
        over: false,
        message: 'Grew 2.1 MB since `4e2a9d1`, within the allowed 5.0 MB.',
      },
    });
    const body = renderReport(report, options);
    expect(body).toContain('measures 472.1 MB (182.3 MB compressed).');
    expect(body).toContain('| base (<code>4e2a9d1</code>) | 470.0 MB | — |');
    expect(body).toContain('| **Δ vs base** | **+2.1 MB (+0.4%)** | — |');
    expect(body).toContain(
      '✅ **Growth**: Grew 2.1 MB since <code>4e2a9d1</code>, within the allowed 5.0 MB.',
    );
    expectWellFormed(body);
  });

  it('a failing smoke test on the slimmed image', () => {
    const report = slimReport();
    report.smoke = {
      command: ['python', '-c', 'import duckdb, pyarrow'],
      before: smokeRun({ image: 'before' }),
      after: smokeRun({
        image: 'after',
        exitCode: 1,
        passed: false,
        medianMs: undefined,
        output:
          'Traceback (most recent call last):\n  File "<string>", line 1\nImportError: libarrow.so.2500: cannot open shared object file\n',
      }),
    };
    const body = renderReport(report, options);
    expect(body).toContain(
      'shrinks from 472.1 MB to 331.0 MB (−29.9%), but the slimmed image **fails its smoke test** (exit code 1).',
    );
    expect(body).toContain('| after | ❌ failed | 1 | — |');
    expect(body).toContain('<details><summary>Output on the slimmed image</summary>');
    expect(body).toContain('ImportError: libarrow.so.2500: cannot open shared object file');
    expect(body).not.toContain('Cold start');
    expectWellFormed(body);
  });

  it('a smoke test that times out', () => {
    const report = slimReport();
    report.smoke = {
      command: ['python', '-m', 'app'],
      before: smokeRun({}),
      after: smokeRun({
        image: 'after',
        exitCode: null,
        passed: false,
        timedOut: true,
        medianMs: undefined,
      }),
    };
    const body = renderReport(report, options);
    expect(body).toContain('**fails its smoke test** (timed out).');
    expect(body).toContain('| after | ❌ failed (timed out) | — | — |');
  });

  it('a smoke test that already fails on the original image', () => {
    const report = slimReport({ after: undefined });
    report.smoke = {
      command: ['python', '-c', 'import duckdb'],
      before: smokeRun({ exitCode: 1, passed: false, output: 'ModuleNotFoundError: duckdb' }),
    };
    const body = renderReport(report, options);
    expect(body).toContain(
      'its smoke test **fails on the original image** (exit code 1), so slimming could not be checked.',
    );
    expect(body).toContain('<details><summary>Output on the image</summary>');
  });

  it('a fallback variant found by the culprit search', () => {
    const report = slimReport();
    if (report.slim) {
      report.slim.culprit = 'tests';
      report.slim.variant = { strip: true, prune: ['pycache', 'stubs'] };
      report.slim.skipped.push(
        '`tests` removal breaks the smoke test; delivered the variant without it.',
      );
    }
    const body = renderReport(report, options);
    expect(body).toContain(
      'and still passes its smoke test. <code>tests</code> removal broke the smoke test, so slimpy delivered the variant without it.',
    );
    expect(body).toContain(
      '- <code>tests</code> removal breaks the smoke test; delivered the variant without it.',
    );
  });

  it('fix rules: their rows, what still ships in an earlier layer, and what strip kept', () => {
    const report = slimReport();
    if (report.slim) {
      report.slim.savings.push({ category: 'leftovers', files: 120, bytes: 220 * MB });
      report.slim.stillShipped = [
        {
          layer: 5,
          instruction: 'RUN python3 -m venv /app/.venv',
          line: 7,
          base: false,
          bytes: 12.3 * MB,
          files: 900,
          categories: [{ category: 'packaging', bytes: 12.3 * MB }],
          why: 'Made by the instruction at line 7 and deleted by layer 6, a later one.',
          fix: 'Create the environment and install into it in one RUN.',
          paths: ['/app/.venv/lib/python3.11/site-packages/pip/__init__.py'],
        },
      ];
      report.slim.stripKept = {
        files: 6,
        bytes: 40 * MB,
        reasons: [{ reason: 'loadable segments changed', files: 6 }],
        paths: ['/venv/lib/python3.12/site-packages/numpy.libs/libscipy_openblas.so'],
      };
      report.slim.culprit = 'install-inputs';
    }
    const body = renderReport(report, options);
    expect(body).toContain(
      '| <code>leftovers</code> | 120 | 220.0 MB | package-manager lists and caches',
    );
    expect(body).toContain('| **total** | 6,901 | **361.1 MB** |');
    expect(body).toContain('Deleted but still shipped, not counted above (12.3 MB):');
    expect(body).toContain(
      '- Still shipped in layer 5 (<code>RUN python3 -m venv /app/.venv</code>, line 7): 12.3 MB in 900 files (<code>packaging</code> 12.3 MB).',
    );
    expect(body).toContain(
      'Strip kept 6 files as they were (40.0 MB), because the stripped copy failed a check: loadable segments changed (6).',
    );
    expect(body).toContain(
      'The <code>install-inputs</code> fix broke the smoke test, so slimpy delivered the variant without it.',
    );
    expectWellFormed(body);
  });

  it('no variant passes: the original image is kept', () => {
    const report = slimReport();
    report.after = report.before;
    const body = renderReport(report, options);
    expect(body).toContain('stays at 472.1 MB: no slimmed variant passed the smoke test.');
  });

  it('over budget and over the growth allowance', () => {
    const report = slimReport({
      budget: { metric: 'uncompressed', limit: 300 * MB, actual: 331 * MB, over: true },
      growth: {
        actual: 331 * MB,
        baseSha: 'abc1234def',
        baseSize: 320 * MB,
        allowed: 5 * MB,
        over: true,
        message: 'Grew 11.0 MB since `abc1234`; 5.0 MB allowed.',
      },
    });
    const body = renderReport(report, options);
    expect(body).toContain(
      '**Over budget**: 331.0 MB uncompressed exceeds the 300.0 MB limit by 31.0 MB.',
    );
    expect(body).toContain(
      '**Grew too much**: Grew 11.0 MB since <code>abc1234</code>; 5.0 MB allowed.',
    );
    expect(body).toContain(
      '❌ **Budget**: 331.0 MB uncompressed is over the 300.0 MB limit by 31.0 MB.',
    );
    expect(body).toContain('❌ **Growth**:');
    expect(body).toContain('| base (<code>abc1234</code>) | 320.0 MB | — |');
    expectWellFormed(body);
  });

  it('no smoke test and a title', () => {
    const body = renderReport(slimReport({ smoke: undefined }), {
      ...options,
      title: 'slimpy (api image)',
    });
    expect(body).toContain(
      '**slimpy (api image)**: <code>examples/pyarrow-duckdb/Dockerfile</code> shrinks',
    );
    expect(body).toContain('(−29.9%); no smoke test was run.');
    expect(body).not.toContain('#### Smoke test');
  });

  it('warnings from the run and from slimming', () => {
    const report = slimReport({
      warnings: ['The compressed sizes of 2 layers came from the cache.'],
    });
    report.slim?.warnings.push('`strip` skipped 3 files that auditwheel repaired.');
    const body = renderReport(report, options);
    expect(body).toContain(
      '#### Warnings\n\n- ⚠️ <code>strip</code> skipped 3 files that auditwheel repaired.\n- ⚠️ The compressed',
    );
  });
});

describe('renderReport: hostile names and output render harmlessly', () => {
  const evil = [
    '/venv/lib/evil|name<script>alert(1)</script>.so',
    '/venv/lib/**bold**_and_~strike~_[link](http://x)',
    '/venv/lib/```fence```',
    '/venv/lib/</details><details><summary>gotcha',
    '/venv/lib/two\nlines\r\n| fake | row |',
    '/venv/lib/@octocat/#1/$x^2$',
    '/venv/lib/\u202eexe.so',
    '<!-- slimpy:examples/pyarrow-duckdb/Dockerfile -->',
  ];
  const report = slimReport({
    warnings: [
      '- # heading in a warning',
      '1. not a list',
      'a `code with | pipe` and a ` stray backtick',
    ],
  });
  report.after = image({
    id: 'sha256:3',
    size: 331 * MB,
    largestFiles: evil.map((path, index) => ({ path, size: (index + 1) * MB })),
    layers: [
      {
        diffId: 'sha256:x',
        size: MB,
        createdBy: 'RUN echo "a|b" > /x && echo <b>hi</b>\nRUN two',
        base: false,
      },
    ],
  });
  if (report.slim)
    report.slim.strippedTop = evil.map((path) => ({ path, before: 2 * MB, after: MB }));
  report.smoke = {
    command: ['sh', '-c', 'echo "</details>" | cat'],
    before: smokeRun({}),
    after: smokeRun({
      image: 'after',
      exitCode: 3,
      passed: false,
      output:
        'line 1\n```\n````\n</details>\n<script>alert(1)</script>\n\u001b[31mred\u001b[0m\n10%\r50%\r100%\n\u0000nul',
    }),
  };
  const body = renderReport(report, { ...options, maxFiles: 20 });

  it('escapes table cells with character references, one row per line', () => {
    expect(body).toContain(
      '| <code>/venv/lib/evil&#124;name&lt;script&gt;alert(1)&lt;/script&gt;.so</code> | 1.0 MB |',
    );
    expect(body).toContain('<code>/venv/lib/two␤lines␤&#124; fake &#124; row &#124;</code>');
    expect(body).toContain(
      '<code>/venv/lib/&#42;&#42;bold&#42;&#42;&#95;and&#95;&#126;strike&#126;&#95;&#91;link&#93;(http://x)</code>',
    );
    expect(body).toContain('<code>/venv/lib/&#96;&#96;&#96;fence&#96;&#96;&#96;</code>');
    expect(body).toContain('<code>/venv/lib/&#64;octocat/&#35;1/&#36;x^2&#36;</code>');
    expect(body).toContain('<code>/venv/lib/\ufffdexe.so</code>');
    expect(body).toContain(
      '<code>RUN echo &quot;a&#124;b&quot; &gt; /x &amp;&amp; echo &lt;b&gt;hi&lt;/b&gt;␤RUN two</code>',
    );
  });

  it('never lets raw markup from the image through', () => {
    expect(body).not.toContain('<script>alert(1)</script>.so');
    expect(body).not.toContain('**bold**');
    expect(body).not.toContain('[link](');
    expect(body).not.toContain('</details><details>');
    expect(body).not.toContain('\u202e');
    expect(body.match(/<!-- slimpy:/g)).toHaveLength(1); // a file named like the marker cannot spoof it
    expectWellFormed(body);
  });

  it('fences output with more backticks than it contains, and cleans terminal codes', () => {
    expect(body).toContain(
      '`````text\nline 1\n```\n````\n</details>\n<script>alert(1)</script>\nred\n100%\n\ufffdnul\n`````',
    );
  });

  it('keeps prose from becoming headings, lists or mentions', () => {
    expect(body).toContain('- ⚠️ &#45; &#35; heading in a warning');
    expect(body).toContain('- ⚠️ &#49;. not a list');
    expect(body).toContain('- ⚠️ a <code>code with &#124; pipe</code> and a &#96; stray backtick');
  });

  it('keeps a command with markup inert', () => {
    expect(body).toContain(
      '<code>sh -c &#39;echo &quot;&lt;/details&gt;&quot; &#124; cat&#39;</code>',
    );
  });
});

describe('renderReport: GitHub’s 65,536-character limit', () => {
  it('truncates a huge patch and says so, keeping the rest of the report', () => {
    const report = slimReport();
    const hunk = Array.from({ length: 40_000 }, (_unused, i) => `+RUN echo line ${i}`).join('\n');
    if (report.slim) report.slim.patch = `${PATCH}${hunk}\n`;
    const body = renderReport(report, options);

    expect(body.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    expect(body).toMatch(
      /<summary>Patch \(40,005 lines, truncated: first [\d,]+ of [\d,]+ characters\)<\/summary>/,
    );
    expect(body).toContain('\n… (truncated)\n```');
    expect(body).toContain('shrinks from 472.1 MB to 331.0 MB');
    expect(body).toContain('#### Verdict');
    expect(body).toContain('<sub>Engine:');
    expectWellFormed(body);
  });

  it('fits when everything is huge at once', () => {
    const report = slimReport({
      warnings: Array.from({ length: 500 }, (_u, i) => `warning ${i}: ${'|'.repeat(2000)}`),
    });
    report.after = image({
      id: 'sha256:4',
      largestFiles: Array.from({ length: 5000 }, (_u, i) => ({
        path: `/venv/${'<&>'.repeat(300)}/${i}.so`,
        size: MB,
      })),
      layers: Array.from({ length: 300 }, (_u, i) => ({
        diffId: `sha256:${i}`,
        size: MB,
        createdBy: `RUN ${'*'.repeat(5000)} ${i}`,
        base: false,
      })),
    });
    if (report.slim) report.slim.patch = 'x'.repeat(500_000);
    report.smoke = {
      command: ['python', '-c', 'import x'],
      before: smokeRun({ output: 'before\n'.repeat(30_000) }),
      after: smokeRun({ image: 'after', passed: false, exitCode: 1, output: '`'.repeat(100_000) }),
    };
    const body = renderReport(report, { ...options, maxFiles: 5000 });

    expect(body.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    expect(body).toContain('(truncated');
    expect(body).toContain('<sub>Engine:');
    expectWellFormed(body);
  });

  it('leaves out whole sections when a tiny limit leaves no other choice', () => {
    const body = renderReport(slimReport(), { ...options, maxChars: 900 });
    expect(body.length).toBeLessThanOrEqual(900);
    expect(body).toContain('shrinks from 472.1 MB to 331.0 MB');
    expect(body).toContain('| after | 331.0 MB | 120.0 MB |');
    expect(body).toContain('*(truncated: sections left out to fit GitHub’s comment size limit)*');
    expectWellFormed(body);
  });

  it('takes an unbounded file count without looping forever', () => {
    const body = renderReport(slimReport(), { ...options, maxFiles: Infinity });
    expect(body).toContain('libarrow.so.2500');
  });

  it('honours a smaller limit', () => {
    const body = renderReport(slimReport(), { ...options, maxChars: 3000 });
    expect(body.length).toBeLessThanOrEqual(3000);
    expectWellFormed(body);
  });
});

describe('commentMarker', () => {
  it.each([
    ['examples/pyarrow-duckdb/Dockerfile', '<!-- slimpy:examples/pyarrow-duckdb/Dockerfile -->'],
    ['api#prod', '<!-- slimpy:api-prod -->'],
    ['x --> <script>', '<!-- slimpy:x-script- -->'],
    ['a---b', '<!-- slimpy:a-b -->'],
    ['', '<!-- slimpy:default -->'],
  ])('%j → %s', (key, marker) => {
    expect(commentMarker(key)).toBe(marker);
  });

  it('can never close the comment early', () => {
    for (const key of ['-->', '--!>', '<!--', 'a\n-->b', '-'.repeat(300)]) {
      const marker = commentMarker(key);
      expect(marker.indexOf('--', 4)).toBe(marker.length - 3);
      expect(marker.length).toBeLessThanOrEqual(120);
    }
  });
});
