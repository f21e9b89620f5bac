import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cliSizeHistory } from '../../src/history/cli.js';
import { growthOf, recordHistory, restoreHistory } from '../../src/history/history.js';
import { baselineLookupKeys, historyId } from '../../src/history/keys.js';
import { LocalDirectoryStore } from '../../src/history/store.js';
import { readSettings } from '../../src/inputs.js';
import type { SlimpyReport } from '../../src/model/report.js';
import { testImage, testReport } from '../support/report.js';

let root: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'slimpy-local-history-'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function files(dir: string, contents: Record<string, string>): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const [name, text] of Object.entries(contents)) await writeFile(path.join(dir, name), text);
  return dir;
}

describe('LocalDirectoryStore', () => {
  it('saves directories, restores them merged into what is there, and keeps entries immutable', async () => {
    const store = new LocalDirectoryStore(path.join(root, 'history'));
    const dir = await files(path.join(root, 'layers'), { 'a.json': 'A' });
    expect(await store.save([dir], 'layers-1')).toBe('saved');
    await writeFile(path.join(dir, 'a.json'), 'changed');
    expect(await store.save([dir], 'layers-1')).toBe('exists');

    await rm(dir, { recursive: true });
    await files(dir, { 'local.json': 'L' });
    expect(await store.restore([dir], 'layers-', [])).toBe('layers-1');
    expect((await readdir(dir)).sort()).toEqual(['a.json', 'local.json']);
    expect(await readFile(path.join(dir, 'a.json'), 'utf8')).toBe('A');
  });

  it('looks up as the Actions cache does, and only for the same paths', async () => {
    const store = new LocalDirectoryStore(path.join(root, 'history'));
    const dir = await files(path.join(root, 'e'), { 'v.json': '1' });
    await store.save([dir], 'k-1');
    await writeFile(path.join(dir, 'v.json'), '2');
    await store.save([dir], 'k-2');
    expect(await store.restore([dir], 'k-1', ['k-'])).toBe('k-1');
    expect(await store.restore([dir], 'k-9', ['k-'])).toBe('k-2');
    expect(await readFile(path.join(dir, 'v.json'), 'utf8')).toBe('2');
    expect(await store.restore([path.join(root, 'elsewhere')], 'k-', [])).toBeUndefined();
    expect(
      await new LocalDirectoryStore(path.join(root, 'none')).restore([dir], 'k', []),
    ).toBeUndefined();
  });

  it('refuses to save nothing', async () => {
    const store = new LocalDirectoryStore(path.join(root, 'history'));
    await expect(store.save([path.join(root, 'missing')], 'k')).rejects.toThrow(/nothing to save/);
  });
});

describe('the CLI history (--history DIR --base REV)', () => {
  const git = (cwd: string, ...args: string[]): string =>
    execFileSync('git', args, {
      cwd,
      encoding: 'utf8',
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 't',
        GIT_AUTHOR_EMAIL: 't@t',
        GIT_COMMITTER_NAME: 't',
        GIT_COMMITTER_EMAIL: 't@t',
      },
    }).trim();

  function report(size: number): SlimpyReport {
    return testReport({ before: testImage(size) });
  }

  it('records HEAD and compares with --base in a local directory', async () => {
    const repo = await files(path.join(root, 'repo'), { Dockerfile: 'FROM scratch\n' });
    git(repo, 'init', '-q');
    git(repo, 'add', '.');
    git(repo, 'commit', '-qm', 'one');
    const first = git(repo, 'rev-parse', 'HEAD');
    const settings = (maxGrowth: string) =>
      readSettings((name) => (name === 'max-growth' ? maxGrowth : ''), {
        workspace: repo,
        outputDir: path.join(root, 'out'),
        cacheDir: path.join(root, 'out', 'layer-cache'),
        runId: `r${maxGrowth}`,
      });
    const warnings: string[] = [];
    const log = { info: () => undefined, warning: (m: string) => warnings.push(m) };
    const historyDir = path.join(root, 'history');

    const s1 = settings('');
    const h1 = cliSizeHistory(historyDir, {}, s1, log);
    const r1 = await restoreHistory(h1);
    await recordHistory(h1, r1, report(100e6), s1);

    await writeFile(path.join(repo, 'Dockerfile'), 'FROM scratch\nCOPY . /\n');
    git(repo, 'commit', '-qam', 'two');
    const s2 = settings('10%');
    const h2 = cliSizeHistory(historyDir, { base: 'HEAD~1' }, s2, log);
    const r2 = await restoreHistory(h2);
    const grown = report(120e6);
    expect(growthOf(r2, grown, s2)).toMatchObject({
      baseSha: first,
      baseSize: 100e6,
      actual: 120e6,
      allowed: 10e6,
      over: true,
    });
    await recordHistory(h2, r2, grown, s2);
    expect(warnings).toEqual([]);
    expect((await readdir(historyDir)).filter((n) => !n.startsWith('.')).length).toBe(2);

    const h3 = cliSizeHistory(historyDir, { base: 'no-such-rev' }, s2, log);
    expect(h3.plan.compare).toBeUndefined();
    expect(warnings).toEqual([expect.stringMatching(/--base no-such-rev is not a commit/)]);
  });

  it('records nothing outside a git checkout, and says so', async () => {
    const dir = await files(path.join(root, 'plain'), { Dockerfile: 'FROM scratch\n' });
    const warnings: string[] = [];
    const settings = readSettings(() => '', {
      workspace: dir,
      outputDir: dir,
      cacheDir: dir,
      runId: 'r',
    });
    const history = cliSizeHistory(path.join(root, 'h'), { base: '--output=/etc/x' }, settings, {
      info: () => undefined,
      warning: (m) => warnings.push(m),
    });
    expect(history.plan).toEqual({ record: undefined });
    expect(warnings).toHaveLength(2);
  });
});

describe('restoring a baseline', () => {
  it('does not take an entry it cannot read for a baseline, and says growth is not checked', async () => {
    const base = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
    const store = new LocalDirectoryStore(path.join(root, 'history'));
    const stagingDir = path.join(root, 'staging');
    const entryDir = await files(path.join(stagingDir, historyId('Dockerfile')), {
      'slimpy-history.json': '{"format":"slimpy-history","version":9}',
    });
    await store.save([entryDir], baselineLookupKeys(historyId('Dockerfile'), base).primary);
    const warnings: string[] = [];
    const restored = await restoreHistory({
      store,
      commentKey: 'Dockerfile',
      plan: { compare: { baseSha: base, baseRef: 'main' } },
      stagingDir,
      layerCacheDir: path.join(root, 'layers'),
      runUnique: '1',
      log: { info: () => undefined, warning: (m) => warnings.push(m) },
    });
    expect(warnings).toEqual([expect.stringMatching(/is not one this version of slimpy reads/)]);
    const settings = readSettings(() => '', {
      workspace: root,
      outputDir: root,
      cacheDir: root,
      runId: 'r',
    });
    const growth = growthOf(restored, { before: { size: 1 } } as SlimpyReport, settings);
    expect(growth).toMatchObject({
      over: false,
      message: expect.stringMatching(/^growth against base a1b2c3d is not checked/),
    });
  });
});
