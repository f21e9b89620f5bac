import { describe, expect, it } from 'vitest';
import {
  InputError,
  parseBuildArgs,
  parseGrowth,
  parsePackageNames,
  parsePrune,
  parseSize,
  readMode,
  readPostCommentInputs,
  readSettings,
} from '../../src/inputs.js';

describe('sizes', () => {
  it.each([
    ['450MB', 450e6],
    ['450 MB', 450e6],
    ['1.5GB', 1.5e9],
    ['300MiB', 300 * 2 ** 20],
    ['2GiB', 2 * 2 ** 30],
    ['512kB', 512e3],
    ['1000', 1000],
    ['1000B', 1000],
  ])('%s is %d bytes', (text, bytes) => {
    expect(parseSize('budget', text)).toBe(bytes);
  });

  it.each(['', 'big', '-5MB', '5 parsecs', 'MB'])('rejects %j with the input name', (text) => {
    expect(() => parseSize('budget', text)).toThrow(InputError);
    expect(() => parseSize('budget', text)).toThrow(/`budget`/);
  });

  it('reads growth as a percentage or a size', () => {
    expect(parseGrowth('max-growth', '5%')).toEqual({ kind: 'percent', value: 5 });
    expect(parseGrowth('max-growth', '20MB')).toEqual({ kind: 'bytes', value: 20e6 });
    expect(() => parseGrowth('max-growth', 'lots')).toThrow(/neither a percentage/);
  });
});

describe('prune categories', () => {
  it('defaults to all and accepts none, lists and exclusions', () => {
    expect(parsePrune('prune', 'all')).toHaveLength(7);
    expect(parsePrune('prune', 'none')).toEqual([]);
    expect(parsePrune('prune', 'tests,\nstubs')).toEqual(['tests', 'stubs']);
    expect(parsePrune('prune', '-pycache')).not.toContain('pycache');
    expect(parsePrune('prune', '-pycache')).toHaveLength(6);
  });

  it('names the known categories when one is unknown', () => {
    expect(() => parsePrune('prune', 'tests,docs')).toThrow(
      /unknown category "docs"; known: all, none, tests.*; opt-in, never in all: unused/,
    );
  });

  it('adds unused only when asked: all,unused is every category and unused', () => {
    expect(parsePrune('prune', 'all')).not.toContain('unused');
    const both = parsePrune('prune', 'all,unused');
    expect(both).toHaveLength(8);
    expect(both.at(-1)).toBe('unused');
    expect(parsePrune('prune', 'unused')).toEqual(['unused']);
    expect(parsePrune('prune', '-tests,unused')).toEqual([
      ...parsePrune('prune', '-tests'),
      'unused',
    ]);
  });
});

describe('keep-packages', () => {
  it('normalises names the way pip compares them and drops repeats', () => {
    expect(parsePackageNames('keep-packages', 'Scikit_Learn, pyarrow\nscikit-learn')).toEqual([
      'scikit-learn',
      'pyarrow',
    ]);
  });

  it('refuses what is not a distribution name', () => {
    expect(() => parsePackageNames('keep-packages', 'numpy>=2')).toThrow(
      /Invalid `keep-packages`: "numpy>=2" is not a distribution name/,
    );
  });
});

describe('settings', () => {
  const defaults = {
    workspace: '/repo',
    outputDir: '/tmp/out',
    cacheDir: '/tmp/cache',
    runId: 'r1',
  };

  it('applies the action.yml defaults', () => {
    const settings = readSettings(() => '', defaults);
    expect(settings).toMatchObject({
      context: '/repo',
      file: '/repo/Dockerfile',
      mode: 'slim',
      smokeTest: 'auto',
      strip: true,
      strict: false,
      network: 'default',
      budgetMetric: 'uncompressed',
      compressed: true,
    });
    expect(settings.prune).toHaveLength(7);
  });

  it('resolves file against the workspace and reads every list', () => {
    const inputs: Record<string, string> = {
      context: 'app',
      file: 'docker/Dockerfile.prod',
      'build-args': 'A=1\nB=x=y',
      keep: '*/h5py/tests/*\n*/foo/*',
      budget: '450MB',
      'budget-metric': 'compressed',
      'compressed-size': 'false',
    };
    const settings = readSettings((name) => inputs[name] ?? '', defaults);
    expect(settings.context).toBe('/repo/app');
    expect(settings.file).toBe('/repo/docker/Dockerfile.prod');
    expect(settings.buildArgs).toEqual({ A: '1', B: 'x=y' });
    expect(settings.keep).toEqual(['*/h5py/tests/*', '*/foo/*']);
    expect(settings.budget).toBe(450e6);
    // A compressed budget needs compressed sizes whatever compressed-size says.
    expect(settings.compressed).toBe(true);
  });

  it.each([
    ['mode', 'shrink', /`mode`: "shrink" is not one of slim, measure/],
    ['strip', 'maybe', /`strip`: "maybe" is not true or false/],
    ['budget-metric', 'zstd', /`budget-metric`/],
    ['build-args', 'NOVALUE', /"NOVALUE" is not KEY=VALUE/],
    ['comment', 'alwyas', /`comment`: "alwyas" is not one of auto, always, never, artifact/],
    ['image', 'My App:latest', /`image`: "My App:latest" is neither an image name/],
    ['tag', 'Acme/App:slim', /`tag`: "Acme\/App:slim" is not an image name/],
    ['tag', 'app:a tag', /`tag`/],
    ['network', 'host bridge', /`network`: "host bridge" is not a network mode/],
    ['keep', 'site-packages/h5py', /`keep`: "site-packages\/h5py" never matches/],
    ['smoke-timeout', '0s', /`smoke-timeout`: "0s" is no time at all/],
    ['smoke-timeout', 'soon', /`smoke-timeout`/],
    ['comment-author', 'the bot', /`comment-author`: "the bot" is not a GitHub login/],
    ['max-growth', 'lots', /`max-growth`/],
    ['budget', '10 parsecs', /`budget`/],
    ['prune', 'docs', /`prune`/],
    ['compressed-size', 'perhaps', /`compressed-size`/],
    ['strict', 'sometimes', /`strict`/],
  ])('rejects %s=%j with a message naming the input', (name, value, message) => {
    expect(() => readSettings((n) => (n === name ? value : ''), defaults)).toThrow(message);
  });

  it.each([
    ['image', 'app:pr-58'],
    ['image', 'ghcr.io/acme/app:1.2.3'],
    ['image', 'localhost:5000/app@sha256:' + 'a'.repeat(64)],
    ['image', 'sha256:' + 'b'.repeat(64)],
    ['image', '0123456789ab'],
    ['tag', 'ghcr.io/acme/app:slim'],
    ['tag', 'app'],
    ['network', 'host'],
    ['network', 'my_net-1'],
    ['comment', 'artifact'],
    ['comment-author', 'my-app[bot]'],
  ])('accepts %s=%j', (name, value) => {
    expect(() => readSettings((n) => (n === name ? value : ''), defaults)).not.toThrow();
  });

  it('reads the given image and the comment author', () => {
    const inputs: Record<string, string> = {
      image: ' app:pr-58 ',
      'comment-author': 'my-app[bot]',
    };
    const settings = readSettings((name) => inputs[name] ?? '', defaults);
    expect(settings).toMatchObject({ image: 'app:pr-58', commentAuthor: 'my-app[bot]' });
    expect(readSettings(() => '', defaults)).not.toHaveProperty('image');
  });

  it('reads mode post-comment apart from the pipeline settings', () => {
    expect(readMode((n) => (n === 'mode' ? 'post-comment' : ''))).toBe('post-comment');
    expect(readMode(() => '')).toBe('slim');
    expect(() => readMode((n) => (n === 'mode' ? 'post' : ''))).toThrow(/`mode`: "post"/);
    expect(readPostCommentInputs(() => '')).toEqual({});
  });

  it('keeps = inside build-arg values', () => {
    expect(parseBuildArgs('build-args', 'URL=http://x/?a=b')).toEqual({ URL: 'http://x/?a=b' });
  });
});
