/**
 * The scripts download from the machine's own package archive, never from a host they name, and
 * nothing in scripts/, src/ or test/ names a real package-mirror host (fixtures use made-up ones).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

function aptEtc(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'slimpy-apt-'));
  mkdirSync(path.join(dir, 'sources.list.d'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

function mirror(etc: string, env: Record<string, string> = {}) {
  return spawnSync('bash', ['scripts/apt-mirror.sh'], {
    env: { PATH: process.env.PATH ?? '', SLIMPY_APT_ETC: etc, ...env },
    encoding: 'utf8',
  });
}

describe('scripts/apt-mirror.sh', () => {
  it('reads the main archive from deb822 sources, skipping the security suite', () => {
    const etc = aptEtc({
      'sources.list.d/debian.sources': [
        'Types: deb',
        'URIs: http://security.mirror.example/debian-security',
        'Suites: bookworm-security',
        '',
        'Types: deb',
        'URIs: http://mirror.example/debian',
        'Suites: bookworm bookworm-updates',
        'Components: main',
      ].join('\n'),
    });
    expect(mirror(etc).stdout.trim()).toBe('http://mirror.example/debian');
  });

  it('reads one-line sources.list entries, options and all', () => {
    const etc = aptEtc({
      'sources.list': [
        '# a comment',
        'deb [arch=amd64] http://security.mirror.example/debian-security bookworm-security main',
        'deb [signed-by=/k.gpg] http://archive.mirror.example/debian bookworm main',
      ].join('\n'),
    });
    expect(mirror(etc).stdout.trim()).toBe('http://archive.mirror.example/debian');
  });

  it('fails with a message naming DEBIAN_MIRROR when the machine has no apt sources', () => {
    const result = mirror(aptEtc({}));
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/no Debian archive .* set DEBIAN_MIRROR/);
  });

  it('DEBIAN_MIRROR overrides the sources', () => {
    const result = mirror(aptEtc({}), { DEBIAN_MIRROR: 'http://own.mirror.example/debian' });
    expect(result.stdout.trim()).toBe('http://own.mirror.example/debian');
  });
});

/** Real mirror hosts, spelled in pieces so this file does not name them either. */
const MIRROR_HOSTS = [
  ['deb', 'debian', 'org'],
  ['ftp', 'debian', 'org'],
  ['security', 'debian', 'org'],
  ['archive', 'ubuntu', 'com'],
  ['security', 'ubuntu', 'com'],
  ['dl-cdn', 'alpinelinux', 'org'],
  ['pypi', 'org'],
  ['files', 'pythonhosted', 'org'],
  ['download', 'pytorch', 'org'],
  ['mirrors', 'fedoraproject', 'org'],
].map((parts) => parts.join('.'));

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : [full];
  });
}

describe('package-mirror host names', () => {
  it('appear nowhere in scripts/, src/ or test/', () => {
    const tracked = execFileSync('git', ['ls-files', 'scripts', 'src', 'test'], {
      encoding: 'utf8',
    })
      .split('\n')
      .filter(Boolean);
    const files = tracked.length > 0 ? tracked : ['scripts', 'src', 'test'].flatMap(filesUnder);
    const hits = files.flatMap((file) => {
      const text = readFileSync(file, 'utf8');
      return MIRROR_HOSTS.filter((host) => text.includes(host)).map((host) => `${file}: ${host}`);
    });
    expect(hits).toEqual([]);
  });
});
