import { describe, expect, it } from 'vitest';
import type { SlimpyReport, SmokeRun } from '../../src/model/report.js';
import { renderText } from '../../src/report/text.js';
import { coldStartSentence, timingsSentence } from '../../src/report/time.js';

function run(image: SmokeRun['image'], runsMs: number[], medianMs: number): SmokeRun {
  const command = ['python', '-m', 'app'];
  return {
    image,
    command,
    exitCode: 0,
    passed: true,
    timedOut: false,
    output: '',
    runsMs,
    medianMs,
  };
}

function slimmed(
  smoke: Partial<NonNullable<SlimpyReport['smoke']>>,
  pycacheFiles = 341,
): SlimpyReport {
  const image = { id: 'sha256:1', size: 1, layers: [], largestFiles: [], baseSize: 0, ownSize: 1 };
  return {
    version: 1,
    mode: 'slim',
    dockerfile: 'Dockerfile',
    engine: {
      version: '26.1.5',
      apiVersion: '1.45',
      store: 'classic',
      storageDriver: 'overlay2',
      builder: 'buildkit',
    },
    before: image,
    after: { ...image, id: 'sha256:2' },
    slim: {
      strategy: 'derived-stages',
      notes: [],
      skipped: [],
      variant: { strip: true, prune: ['pycache'] },
      savings: [{ category: 'pycache', files: pycacheFiles, bytes: 6_600_000 }],
      strippedTop: [],
      dockerfilePath: 'out/Dockerfile.slimpy',
      patchPath: 'out/slimpy.patch',
      patch: '',
      warnings: [],
    },
    smoke: {
      command: ['python', '-m', 'app'],
      before: run('before', [1000, 1040, 1020], 1020),
      after: run('after', [1400, 1390, 1420], 1400),
      ...smoke,
    },
    warnings: [],
    timings: {
      totalSeconds: 48.23,
      steps: [
        { step: 'Build the image', seconds: 21.5, startSeconds: 0.2 },
        { step: 'Build the slimmed image', seconds: 19.97, startSeconds: 21.8, overlapped: true },
        { step: 'Measure the image', seconds: 6.1, startSeconds: 21.8 },
      ],
    },
  };
}

describe('cold start, in words', () => {
  it('gives the delta with how much the runs vary', () => {
    const report = slimmed({ coldStartDeltaMs: 380, coldStartSpreadMs: 40 });
    expect(coldStartSentence(report)).toBe(
      'Cold start: imports take +0.4 s without bytecode (median of 3 runs each; the runs of one image vary by up to 40 ms).',
    );
  });

  it('calls a delta inside the spread no measurable change', () => {
    const report = slimmed({ coldStartDeltaMs: -90, coldStartSpreadMs: 250 });
    expect(coldStartSentence(report)).toBe(
      'Cold start: no measurable change without bytecode (−90 ms, inside the 0.3 s the runs of one image vary by; median of 3 runs each).',
    );
  });

  it('says nothing when no bytecode was removed, nor when nothing was timed', () => {
    expect(coldStartSentence(slimmed({ coldStartDeltaMs: 380 }, 0))).toBeUndefined();
    expect(coldStartSentence(slimmed({}))).toBeUndefined();
  });
});

describe('step times', () => {
  it('sum up the run in one sentence for the comment and the summary', () => {
    expect(timingsSentence(slimmed({}).timings!)).toBe(
      'slimpy took 48.2 s: Build the image 21.5 s · Build the slimmed image 20.0 s (in parallel) · Measure the image 6.1 s.',
    );
  });

  it('are listed one per line in the terminal, with the cold start', () => {
    const text = renderText(slimmed({ coldStartDeltaMs: 380, coldStartSpreadMs: 40 }), {
      report: 'out/slimpy-report.json',
    });
    expect(text).toContain('  Cold start: imports take +0.4 s without bytecode');
    expect(text).toContain(
      [
        'Time: 48.2 s',
        '  Build the image            21.5 s',
        '  Build the slimmed image    20.0 s  (in parallel with other steps)',
        '  Measure the image           6.1 s',
      ].join('\n'),
    );
  });
});
