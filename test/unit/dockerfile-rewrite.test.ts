import { describe, expect, test } from 'vitest';
import { pruneCommand, shellQuote } from '../../src/dockerfile/invocation.js';
import { indexSource } from '../../src/dockerfile/parse.js';
import {
  applyTextEdits,
  hasShellComment,
  insertion,
  replacement,
} from '../../src/dockerfile/rewrite.js';

describe('applyTextEdits', () => {
  const text = 'FROM a AS b\nCOPY --from=b /x /y\n';

  test('applies insertions and replacements by original offsets, in any order', () => {
    const source = indexSource(text);
    const edits = [
      replacement(source, 12 + 12, 12 + 13, 'b-slimpy'),
      insertion(12, 'FROM b AS b-slimpy\n'),
    ];
    expect(applyTextEdits(text, edits)).toBe(
      'FROM a AS b\nFROM b AS b-slimpy\nCOPY --from=b-slimpy /x /y\n',
    );
  });

  test('insertions at one offset keep the order they were given in', () => {
    expect(applyTextEdits('ab', [insertion(1, '1'), insertion(1, '2')])).toBe('a12b');
  });

  test('refuses overlapping edits', () => {
    const source = indexSource(text);
    expect(() =>
      applyTextEdits(text, [replacement(source, 0, 6, 'x'), replacement(source, 2, 4, 'y')]),
    ).toThrow(/overlapping/);
  });

  test('refuses an edit that no longer matches the text', () => {
    expect(() => applyTextEdits(text, [{ offset: 0, removed: 'COPY', inserted: '' }])).toThrow(
      /does not match/,
    );
  });
});

describe('hasShellComment', () => {
  test.each([
    ['pip install x # pinned', true],
    ['# whole line', true],
    ['pip install x;# note', true],
    ['echo "# not a comment"', false],
    ["echo '#'", false],
    ['echo ${#VAR} $#', false],
    ['curl http://example.com/#anchor', false],
    ['echo \\# escaped', false],
  ])('%j: %s', (command, expected) => {
    expect(hasShellComment(command)).toBe(expected);
  });
});

describe('the prune command', () => {
  test.each([
    ['--strip', '--strip'],
    ['--categories=tests,pycache', '--categories=tests,pycache'],
    ['a b', "'a b'"],
    ["it's", "'it'\\''s'"],
    ['$HOME', "'$HOME'"],
    ['', "''"],
  ])('shell-quotes %j as %s', (word, quoted) => {
    expect(shellQuote(word)).toBe(quoted);
  });

  test('puts option words before the roots', () => {
    expect(pruneCommand(['--strip'], ['/venv', '/usr/local/lib/python3.*'])).toBe(
      'sh /tmp/slimpy-prune.sh --strip /venv /usr/local/lib/python3.*',
    );
  });
});
