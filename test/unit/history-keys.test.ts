import { describe, expect, it } from 'vitest';
import { createEntry, deliveredSize, parseEntry } from '../../src/history/entry.js';
import {
  baselineLookupKeys,
  historyId,
  LAYER_CACHE_PREFIX,
  layerCacheKey,
  reportKey,
  reportKeyPrefix,
  shaOfReportKey,
} from '../../src/history/keys.js';
import { planFromEvent } from '../../src/history/plan.js';
import { matchKey } from '../../src/history/store.js';
import { readSettings } from '../../src/inputs.js';
import type { SlimpyReport } from '../../src/model/report.js';
import { testImage, testReport } from '../support/report.js';

const SHA = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const MERGE = 'd4e5f60718293a4b5c6d7e8f90123456789012ab';

describe('cache keys', () => {
  it('hash the comment key into a key the Actions cache accepts', () => {
    const id = historyId('docker/api.Dockerfile#runtime, with a comma and ünïcode');
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(historyId('a')).not.toBe(historyId('b'));
    const key = reportKey(id, 'baseline', SHA.toUpperCase());
    expect(key).toBe(`slimpy-v1-${id}-${SHA}`);
    expect(key).not.toMatch(/,/);
    expect(key.length).toBeLessThanOrEqual(512);
    expect(shaOfReportKey(key)).toBe(SHA);
    expect(shaOfReportKey(reportKey(id, 'pull-request', SHA))).toBe(SHA);
    expect(shaOfReportKey(layerCacheKey('1'))).toBeUndefined();
  });

  it('keep pull-request entries and the layer cache out of the baselines prefix', () => {
    const id = historyId('Dockerfile');
    const { primary, restore } = baselineLookupKeys(id, SHA);
    expect(primary).toBe(reportKey(id, 'baseline', SHA));
    expect(restore).toEqual([reportKeyPrefix(id, 'baseline')]);
    for (const other of [reportKey(id, 'pull-request', MERGE), layerCacheKey('99-1-abc')]) {
      expect(other.startsWith(restore[0] ?? '')).toBe(false);
    }
    expect(layerCacheKey('12,3 x/y')).toBe(`${LAYER_CACHE_PREFIX}12-3-x-y`);
  });
});

describe('matchKey: the Actions cache lookup order', () => {
  const entries = [
    { key: 'p-aaa', createdAt: 1 },
    { key: 'p-bbb', createdAt: 3 },
    { key: 'p-aaa-x', createdAt: 5 },
    { key: 'q-1', createdAt: 2 },
  ];
  it.each([
    ['an exact key wins over newer prefix matches', 'p-aaa', ['p-'], 'p-aaa'],
    ['then the key as a prefix, newest first', 'p-a', [], 'p-aaa-x'],
    ['then each restore key in order', 'z', ['q-', 'p-'], 'q-1'],
    ['a restore key matches by prefix, newest first', 'z', ['p-'], 'p-aaa-x'],
    ['nothing', 'z', ['y'], undefined],
  ])('%s', (_name, key, restoreKeys, expected) => {
    expect(matchKey(entries, key, restoreKeys)).toBe(expected);
  });
});

describe('planFromEvent', () => {
  it.each([
    [
      'a push records a baseline and compares with nothing',
      { eventName: 'push', sha: SHA, ref: 'refs/heads/main', payload: {} },
      {
        record: { kind: 'baseline', sha: SHA, ref: 'refs/heads/main', event: 'push' },
        compare: undefined,
      },
    ],
    [
      'a pull request compares with its base and records apart',
      {
        eventName: 'pull_request',
        sha: MERGE,
        ref: 'refs/pull/7/merge',
        payload: { pull_request: { base: { sha: SHA.toUpperCase(), ref: 'main' } } },
      },
      {
        record: {
          kind: 'pull-request',
          sha: MERGE,
          ref: 'refs/pull/7/merge',
          event: 'pull_request',
        },
        compare: { baseSha: SHA, baseRef: 'main' },
      },
    ],
    [
      'a merge group compares with its base',
      {
        eventName: 'merge_group',
        sha: MERGE,
        payload: { merge_group: { base_sha: SHA, base_ref: 'refs/heads/main' } },
      },
      {
        record: { kind: 'pull-request', sha: MERGE, ref: undefined, event: 'merge_group' },
        compare: { baseSha: SHA, baseRef: 'refs/heads/main' },
      },
    ],
    [
      'a pull request without a usable base records apart and compares with nothing',
      {
        eventName: 'pull_request',
        sha: MERGE,
        payload: { pull_request: { base: { sha: 'not a sha' } } },
      },
      {
        record: { kind: 'pull-request', sha: MERGE, ref: undefined, event: 'pull_request' },
        compare: undefined,
      },
    ],
    [
      'no commit: nothing recorded',
      { eventName: 'push', payload: undefined },
      { record: undefined, compare: undefined },
    ],
  ])('%s', (_name, facts, plan) => {
    expect(planFromEvent(facts)).toEqual(plan);
  });
});

describe('the comment key', () => {
  it('is the comment-key input, or the Dockerfile path in the workspace with #target', () => {
    const key = (inputs: Record<string, string>): string =>
      readSettings((name) => inputs[name] ?? '', {
        workspace: '/repo',
        outputDir: '/o',
        cacheDir: '/c',
        runId: 'r',
      }).commentKey;
    const file = 'docker/api.Dockerfile';
    expect(key({ 'comment-key': ' my-image ', file, target: 'runtime' })).toBe('my-image');
    expect(key({ file, target: 'runtime' })).toBe('docker/api.Dockerfile#runtime');
    expect(key({ context: 'app' })).toBe('app/Dockerfile');
    expect(key({ file: '/elsewhere/Dockerfile' })).toBe('/elsewhere/Dockerfile');
  });
});

describe('history entries', () => {
  const settings = readSettings((name) => ({ 'max-growth': '5%', prune: '-tests' })[name] ?? '', {
    workspace: '/w',
    outputDir: '/o',
    cacheDir: '/c',
    runId: 'r',
  });
  const report: SlimpyReport = testReport({
    before: testImage(500),
    after: testImage(300, { compressed: 100 }),
  });

  it('round-trip through JSON with the settings that shaped the sizes and no paths of the machine', () => {
    const entry = createEntry(report, settings, {
      kind: 'baseline',
      sha: SHA,
      commentKey: 'k',
      now: new Date(0),
    });
    const parsed = parseEntry(JSON.stringify(entry));
    expect(parsed).toEqual(JSON.parse(JSON.stringify(entry)));
    expect(parsed?.settings).toMatchObject({
      mode: 'slim',
      maxGrowth: { kind: 'percent', value: 5 },
    });
    expect(parsed?.settings.prune).not.toContain('tests');
    expect(JSON.stringify(parsed?.settings)).not.toMatch(/"\/[wco]"/);
    expect(deliveredSize(report)).toEqual({ size: 300, compressed: 100 });
  });

  it.each([
    ['not JSON', '{'],
    ['another format', JSON.stringify({ format: 'other', version: 1 })],
    ['a newer version', JSON.stringify({ format: 'slimpy-history', version: 2, sha: SHA, report })],
    [
      'no size',
      JSON.stringify({ format: 'slimpy-history', version: 1, sha: SHA, report: { before: {} } }),
    ],
    [
      'a broken after',
      JSON.stringify({
        format: 'slimpy-history',
        version: 1,
        sha: SHA,
        report: { before: { size: 1 }, after: { size: -1 } },
      }),
    ],
  ])('are refused when %s', (_name, text) => {
    expect(parseEntry(text)).toBeUndefined();
  });
});
