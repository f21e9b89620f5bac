import { describe, expect, it } from 'vitest';
import {
  cleanBlockText,
  codeText,
  escapeProse,
  escapeText,
  fencedBlock,
  sanitizeMarkerKey,
} from '../../src/report/escape.js';

describe('escapeText', () => {
  it.each([
    ['a|b', 'a&#124;b'],
    ['<script>', '&lt;script&gt;'],
    ['&amp;', '&amp;amp;'],
    ['**bold** _it_ ~del~', '&#42;&#42;bold&#42;&#42; &#95;it&#95; &#126;del&#126;'],
    ['[x](http://evil)', '&#91;x&#93;(http://evil)'],
    ['![img](x)', '&#33;&#91;img&#93;(x)'],
    ['`code`', '&#96;code&#96;'],
    ['back\\slash', 'back&#92;slash'],
    ['$E=mc^2$', '&#36;E=mc^2&#36;'],
    ['two\nlines\r\nthree\rfour', 'two␤lines␤three␤four'],
    ['tab\there', 'tab here'],
    ['nul\u0000 bell\u0007', 'nul\ufffd bell\ufffd'],
    ['\u202eevil\u2066', '\ufffdevil\ufffd'],
  ])('%j → %j', (input, output) => {
    expect(escapeText(input)).toBe(output);
  });

  it('keeps GitHub from mentioning people or linking issues', () => {
    expect(escapeText('ping @octocat about #123')).toBe(
      'ping &#64;&#8203;octocat about &#35;&#8203;123',
    );
    expect(escapeText('a @ b # c')).toBe('a &#64; b &#35; c');
  });

  it('leaves plain text alone', () => {
    expect(escapeText('libarrow.so.2500 (53.0 MB)')).toBe('libarrow.so.2500 (53.0 MB)');
  });
});

describe('codeText', () => {
  it('wraps escaped text in <code> (GitHub links no mentions inside code)', () => {
    expect(codeText('/venv/@scope/x|y.so')).toBe('<code>/venv/&#64;scope/x&#124;y.so</code>');
    expect(codeText('</code><b>')).toBe('<code>&lt;/code&gt;&lt;b&gt;</code>');
  });
});

describe('escapeProse', () => {
  it('renders backtick spans as code and keeps the rest inert', () => {
    expect(escapeProse('`tests` removal breaks the smoke test')).toBe(
      '<code>tests</code> removal breaks the smoke test',
    );
    expect(escapeProse('copied from `/venv/a|b` into *final*')).toBe(
      'copied from <code>/venv/a&#124;b</code> into &#42;final&#42;',
    );
  });

  it('treats an unpaired backtick as text', () => {
    expect(escapeProse('a ` b')).toBe('a &#96; b');
  });

  it('cannot start a list, a heading or a quote', () => {
    expect(escapeProse('- item')).toBe('&#45; item');
    expect(escapeProse('+ item')).toBe('&#43; item');
    expect(escapeProse('12. item')).toBe('&#49;2. item');
    expect(escapeProse('# title')).toBe('&#35; title');
    expect(escapeProse('> quote')).toBe('&gt; quote');
  });
});

describe('fencedBlock', () => {
  it('uses three backticks for plain content', () => {
    expect(fencedBlock('hello\n', 'text')).toBe('```text\nhello\n```');
  });

  it('uses a fence longer than any backtick run inside', () => {
    expect(fencedBlock('a\n```\nb ```` c', 'text')).toBe('`````text\na\n```\nb ```` c\n`````');
  });

  it('labels diffs', () => {
    expect(fencedBlock('+x', 'diff').startsWith('```diff\n')).toBe(true);
  });
});

describe('cleanBlockText', () => {
  it('drops colour codes and keeps what a terminal would show after carriage returns', () => {
    expect(cleanBlockText('\u001b[1;31mERROR\u001b[0m done\r\n10%\r50%\r100%\nnext')).toBe(
      'ERROR done\n100%\nnext',
    );
  });

  it('replaces control and bidi characters but keeps tabs', () => {
    expect(cleanBlockText('a\tb\u0000c\u202ed')).toBe('a\tb\ufffdc\ufffdd');
  });
});

describe('sanitizeMarkerKey', () => {
  it('keeps path-like keys and rewrites the rest', () => {
    expect(sanitizeMarkerKey('services/api/Dockerfile:prod')).toBe('services/api/Dockerfile:prod');
    expect(sanitizeMarkerKey('a b-->c')).toBe('a-b-c');
    expect(sanitizeMarkerKey('')).toBe('default');
    expect(sanitizeMarkerKey('x'.repeat(500))).toHaveLength(100);
  });
});
