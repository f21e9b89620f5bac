import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { gitApply as applyInRepository } from '../support/git-apply.js';
import { unifiedDiff } from '../../src/dockerfile/diff.js';
import { planSlim } from '../../src/dockerfile/plan.js';

const FIXTURES = new URL('../fixtures/dockerfiles/', import.meta.url);
const fixtureNames = readdirSync(FIXTURES).filter((name) => !name.startsWith('.'));

function fixture(name: string, file = 'Dockerfile'): string {
  return readFileSync(new URL(`${name}/${file}`, FIXTURES), 'utf8');
}

const scratch = mkdtempSync(join(tmpdir(), 'slimpy-diff-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Applies the patch with git in a scratch directory and returns the patched file. */
function gitApply(before: string, patch: string, path: string): string {
  return applyInRepository(scratch, before, patch, path);
}

describe('unifiedDiff', () => {
  test('is empty when nothing changed', () => {
    expect(unifiedDiff('FROM a\n', 'FROM a\n', 'Dockerfile')).toBe('');
  });

  test('has git headers with a/ and b/ prefixes', () => {
    expect(unifiedDiff('FROM a\nRUN x\n', 'FROM a\nRUN y\n', './docker/Dockerfile')).toBe(
      [
        'diff --git a/docker/Dockerfile b/docker/Dockerfile',
        '--- a/docker/Dockerfile',
        '+++ b/docker/Dockerfile',
        '@@ -1,2 +1,2 @@',
        ' FROM a',
        '-RUN x',
        '+RUN y',
        '',
      ].join('\n'),
    );
  });

  test.each(
    fixtureNames.filter((name) => fixture(name) !== fixture(name, 'expected.buildkit.Dockerfile')),
  )('the %s patch applies cleanly with git apply and gives the slimmed file', (name) => {
    const before = fixture(name);
    const after = fixture(name, 'expected.buildkit.Dockerfile');
    expect(gitApply(before, unifiedDiff(before, after, 'app/Dockerfile'), 'app/Dockerfile')).toBe(
      after,
    );
  });

  test.each([
    { why: 'CRLF line endings', crlf: true },
    { why: 'no newline at the end', crlf: false },
  ])('a patch of a file with $why applies too', ({ crlf }) => {
    const eol = crlf ? '\r\n' : '\n';
    const before = `FROM python:3.11${eol}RUN pip install flask${crlf ? eol : ''}`;
    const after = planSlim(before, { buildKit: true, scriptPath: 's.sh', scriptArgs: [] }).text;
    expect(after).not.toBe(before);
    expect(gitApply(before, unifiedDiff(before, after, 'Dockerfile'), 'Dockerfile')).toBe(after);
  });
});
