import { describe, expect, it } from 'vitest';
import { annotateFindings } from '../../src/report/annotations.js';
import { renderFindings } from '../../src/report/findings-markdown.js';
import type { Finding, SlimpyReport } from '../../src/model/report.js';
import { renderText } from '../../src/report/text.js';
import { testFinding, testImage, testReport } from '../support/report.js';

const toolchain: Finding = testFinding({
  kind: 'build-toolchain',
  title: 'Build toolchain in the final image: `gcc-12`, `libc6-dev`',
  bytes: 224_763_101,
  compressedBytes: 80_696_234,
  instruction:
    'RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev python3-dev && rm -rf /var/lib/apt/lists/*',
  line: 4,
  fix: 'Move this RUN to a builder stage (`FROM … AS build`), and `COPY --from=build` only the result.',
  paths: [
    '/usr/lib/gcc/x86_64-linux-gnu/12/cc1',
    '/usr/lib/gcc/x86_64-linux-gnu/12/lto1',
    '/usr/include/a.h',
    '/usr/include/b.h',
  ],
});

/** A finding whose every field carries hostile text from the image. */
const hostile: Finding = testFinding({
  kind: 'duplicate-files',
  title:
    'Duplicate content: 1 file (the biggest, `/x|y</details>\u001b[2J`, repeats `/@octocat #1`)',
  bytes: 2_000_000,
  instruction: 'COPY <script> | @team',
  fix: 'Keep one copy | **really**',
  paths: ['/app/a|b`c\n<img src=x>'],
});

const base: Finding = testFinding({
  kind: 'base-image',
  title: "Base image `python:3.11`: 1.02 GB of the image's 1.35 GB (your layers: 330.0 MB)",
  bytes: 1_020_000_000,
  compressedBytes: 390_000_000,
  instruction: 'FROM python:3.11',
  line: 1,
  fix: '`python:3.11-slim` would do.',
  paths: [],
});

describe('renderFindings', () => {
  it('one row per finding: size (compressed as an estimate), line and instruction, what, fix', () => {
    const markdown = renderFindings([toolchain, base]);
    expect(markdown).toContain('### What else makes the image heavy');
    expect(markdown).toContain(
      '| 224.8 MB<br><sub>~80.7 MB compressed</sub> | line 4<br><code>RUN apt-get update',
    );
    expect(markdown).toContain(
      'Build toolchain in the final image: <code>gcc-12</code>, <code>libc6-dev</code>',
    );
    expect(markdown).toContain('<code>/usr/lib/gcc/x86&#95;64-linux-gnu/12/cc1</code>');
    expect(markdown).not.toContain('/usr/include/b.h');
    // The base layers' compressed size is measured, not estimated.
    expect(markdown).toContain('| 1.02 GB<br><sub>390.0 MB compressed</sub> | line 1');
    expect(
      markdown
        .split('\n')
        .filter(
          (line) =>
            line.startsWith('| ') && !line.startsWith('| Size') && !line.startsWith('| ---'),
        ),
    ).toHaveLength(2);
  });

  it('escapes everything that comes from the image', () => {
    const markdown = renderFindings([hostile]);
    const row = markdown.split('\n').find((line) => line.includes('2.0 MB')) ?? '';
    expect(row.split(/(?<!\\)\|/).length - 2).toBe(4);
    expect(markdown).not.toContain('</details>');
    expect(markdown).not.toContain('<script>');
    expect(markdown).not.toContain('<img');
    expect(markdown).not.toMatch(/(?<!&#64;)@octocat/);
    expect(markdown).not.toContain('**really**');
  });

  it('nothing to say: no section; too much: the rest counted', () => {
    expect(renderFindings([])).toBe('');
    const many = Array.from({ length: 12 }, (_, i) => ({ ...toolchain, line: i + 1 }));
    const markdown = renderFindings(many, { maxRows: 10 });
    expect(markdown).toContain('2 more in the JSON report');
    expect(markdown.match(/^\| \d/gm)).toHaveLength(10);
  });
});

describe('annotateFindings', () => {
  it('a warning at the Dockerfile line of each of the biggest findings', () => {
    const calls: Array<[string, unknown]> = [];
    annotateFindings(
      { dockerfile: 'docker/Dockerfile', findings: [toolchain, hostile] },
      (message, properties) => calls.push([message, properties]),
    );
    expect(calls).toEqual([
      [
        `${toolchain.title}. ${toolchain.fix}`,
        { title: 'slimpy: 224.8 MB build toolchain', file: 'docker/Dockerfile', startLine: 4 },
      ],
      [
        `${hostile.title}. ${hostile.fix}`,
        { title: 'slimpy: 2.0 MB duplicate files', file: 'docker/Dockerfile' },
      ],
    ]);
  });

  it('at most `limit` annotations, and none without findings', () => {
    const calls: string[] = [];
    annotateFindings(
      { dockerfile: 'Dockerfile', findings: Array(9).fill(toolchain) },
      (message) => calls.push(message),
      5,
    );
    expect(calls).toHaveLength(5);
    annotateFindings({ dockerfile: 'Dockerfile' }, (message) => calls.push(message));
    expect(calls).toHaveLength(5);
  });
});

describe('renderText', () => {
  const report: SlimpyReport = testReport({
    before: testImage(394_388_864, { baseSize: 155e6, ownSize: 239e6 }),
    findings: [toolchain, { ...hostile, line: undefined }],
  });

  it('lists the findings with their line and fix, control characters made harmless', () => {
    const text = renderText(report, { report: 'out/slimpy-report.json' });
    expect(text).toContain('What else makes the image heavy (original image):');
    expect(text).toContain(
      '  224.8 MB  line 4: Build toolchain in the final image: `gcc-12`, `libc6-dev`',
    );
    expect(text).toContain(`${' '.repeat(14)}Move this RUN to a builder stage`);
    expect(text).toContain('    2.0 MB  Duplicate content: 1 file');
    expect(text).toContain('</details>?[2J');
    expect(text).not.toContain('\u001b');
  });

  it('says nothing about findings when there are none', () => {
    expect(renderText({ ...report, findings: [] }, { report: 'r.json' })).not.toContain(
      'What else',
    );
  });
});
