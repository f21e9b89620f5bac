import { describe, expect, it } from 'vitest';
import { splitCommandWords, userSmokeCommand } from '../../src/smoke/command.js';
import { smokeCommand } from '../../src/smoke/smoke.js';
import { AUTO_SMOKE_DISPLAY } from '../../src/smoke/auto.js';

describe('splitCommandWords', () => {
  it.each([
    ['python -c "import duckdb"', ['python', '-c', 'import duckdb']],
    ["python -c 'import duckdb, pyarrow'", ['python', '-c', 'import duckdb, pyarrow']],
    ['  app   --check  ', ['app', '--check']],
    ['python -m app --port=8080', ['python', '-m', 'app', '--port=8080']],
    [`python3 -c "print('a;b|c')"`, ['python3', '-c', "print('a;b|c')"]],
    ['echo "say \\"hi\\""', ['echo', 'say "hi"']],
    ['echo "keep \\n as is"', ['echo', 'keep \\n as is']],
    ["echo 'no \\escape'", ['echo', 'no \\escape']],
    ['echo a\\ b', ['echo', 'a b']],
    ['echo ab\'cd\'"ef"', ['echo', 'abcdef']],
    ['echo "" x', ['echo', '', 'x']],
  ])('%s', (line, words) => {
    expect(splitCommandWords(line)).toEqual(words);
  });

  it.each([
    ['python -c x | tee log'],
    ['python app.py && echo ok'],
    ['python app.py; echo ok'],
    ['echo $HOME'],
    ['echo "$HOME"'],
    ['echo `date`'],
    ['ls *.py'],
    ['python app.py > out'],
    ['FLAG=1 python app.py'],
    ["python -c 'unterminated"],
    ['python -c "unterminated'],
    ['trailing\\'],
  ])('needs a shell: %s', (line) => {
    expect(splitCommandWords(line)).toBeUndefined();
  });
});

describe('userSmokeCommand', () => {
  it('runs through /bin/sh and falls back to the split words', () => {
    const command = userSmokeCommand("python -c 'import duckdb'");
    expect(command.display).toEqual(['/bin/sh', '-c', "python -c 'import duckdb'"]);
    expect(command.attempts).toEqual([
      ['/bin/sh', '-c', "python -c 'import duckdb'"],
      ['python', '-c', 'import duckdb'],
    ]);
    expect(command.unstartable).toContain('"python"');
  });

  it('has no fallback for shell syntax, and says so', () => {
    const command = userSmokeCommand('python -m app | grep ok');
    expect(command.attempts).toEqual([['/bin/sh', '-c', 'python -m app | grep ok']]);
    expect(command.unstartable).toMatch(/no \/bin\/sh.*shell syntax/);
  });

  it('rejects an empty command', () => {
    expect(() => userSmokeCommand('   ')).toThrow(/smoke-test is empty/);
  });
});

describe('smokeCommand', () => {
  it('treats "auto" as the import check and anything else as a command', () => {
    expect(smokeCommand(' auto ').display).toEqual(AUTO_SMOKE_DISPLAY);
    expect(smokeCommand('python -m app --check').display).toEqual([
      '/bin/sh',
      '-c',
      'python -m app --check',
    ]);
  });
});
