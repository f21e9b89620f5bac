/**
 * Issue 18: when slimming removed nothing, the headline, the job summary (the same markdown) and
 * the CLI say which of the reasons it was, with its cause; a root the prune could not find is an
 * error on its COPY line. One test per wrong outcome the issue reports.
 */
import { describe, expect, it } from 'vitest';
import { planSlim, type SlimPlan } from '../../src/dockerfile/plan.js';
import type { SlimpyReport } from '../../src/model/report.js';
import {
  allVariantsFailed,
  missingRoots,
  readPruneLog,
  unchangedReason,
} from '../../src/pipeline/outcome.js';
import { annotateMissingRoots } from '../../src/report/annotations.js';
import { renderReport } from '../../src/report/markdown.js';
import { renderText } from '../../src/report/text.js';
import type { SmokeRun } from '../../src/model/report.js';
import { testImage, testReport } from '../support/report.js';

const MB = 1_000_000;

function smokeRun(image: SmokeRun['image']): SmokeRun {
  return { image, command: ['python'], exitCode: 0, passed: true, timedOut: false, output: '' };
}

/** The model-server shape of the issue; line 11 copies the environment. */
const MODEL_SERVER = [
  'ARG BASE_IMAGE=python:3.11-slim',
  'ARG VENV_PATH=/prod_venv',
  'FROM ${BASE_IMAGE} AS builder',
  'ARG VENV_PATH',
  'ENV VIRTUAL_ENV=${VENV_PATH}',
  'RUN python3 -m venv $VIRTUAL_ENV && $VIRTUAL_ENV/bin/pip install kserve',
  'FROM ${BASE_IMAGE} AS prod',
  'ARG VENV_PATH',
  'ENV VIRTUAL_ENV=${VENV_PATH}',
  'ENV PATH="$VIRTUAL_ENV/bin:$PATH"',
  'COPY --from=builder $VIRTUAL_ENV $VIRTUAL_ENV',
  '',
].join('\n');

function plan(text: string): SlimPlan {
  return planSlim(text, { buildKit: true, scriptPath: '.slimpy/prune.sh', scriptArgs: [] });
}

/** The report of a run whose slimmed image is the original one (same id), as the issue saw it. */
function unchangedReport(slim: Partial<NonNullable<SlimpyReport['slim']>>): SlimpyReport {
  const before = testImage(698 * MB, { compressed: 182.3 * MB });
  return testReport({
    before,
    after: before,
    slim: {
      strategy: 'derived-stages',
      notes: [],
      skipped: [],
      variant: { strip: true, prune: ['tests'], fix: [] },
      savings: [],
      strippedTop: [],
      dockerfilePath: 'out/Dockerfile.slimpy',
      patchPath: 'out/slimpy.patch',
      patch: '',
      warnings: [],
      ...slim,
    },
    smoke: {
      command: ['python', '-m', 'success_200_isvc.model'],
      before: smokeRun('before'),
      after: smokeRun('after'),
    },
  });
}

function headline(report: SlimpyReport): string {
  return renderReport(report, { commentKey: 'k' }).split('\n\n')[1] ?? '';
}

describe('no Python environment found', () => {
  const slimPlan = plan(MODEL_SERVER);
  const log = readPruneLog([
    '   slimpy: warning: root /prod_venv does not exist or is not a directory; skipped',
    '   slimpy: warning: no Python environment (site-packages) found under the roots',
    '   slimpy: 0.0 MB saved in 0 environment(s)',
  ]);
  const missing = missingRoots(slimPlan, log);
  const slim = {
    missingRoots: missing,
    unchanged: unchangedReason(slimPlan, log, { savings: [], missingRoots: missing }),
  };
  const report = unchangedReport(slim);

  it('the plan resolves the root through the re-declared ARG and the ENV', () => {
    expect(slimPlan.derived.map((stage) => stage.roots)).toEqual([['/prod_venv']]);
    expect(missing).toEqual([{ root: '/prod_venv', lines: [11] }]);
  });

  it('the headline names the missing root and its line, not a smoke-test failure', () => {
    expect(headline(report)).toBe(
      '**slimpy**: <code>Dockerfile</code> stays at 698.0 MB: slimpy found no Python environment to prune: the root <code>/prod&#95;venv</code> (COPY at line 11) is not a directory in the stage copied from.',
    );
    expect(renderReport(report, { commentKey: 'k' })).not.toMatch(/no slimmed variant passed/);
  });

  it('the CLI says the same, and the root as an error with its line', () => {
    const text = renderText(report, { report: 'out/slimpy-report.json' });
    expect(text).toContain(
      'Not slimmed: slimpy found no Python environment to prune: the root `/prod_venv` (COPY at line 11) is not a directory in the stage copied from',
    );
    expect(text).toContain(
      '  error: root /prod_venv (COPY at line 11) does not exist in its stage',
    );
  });

  it('is an error-level annotation on the COPY line', () => {
    const errors: Array<{ message: string; line?: number; file?: string }> = [];
    annotateMissingRoots(report, (message, properties) =>
      errors.push({ message, line: properties.startLine, file: properties.file }),
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ line: 11, file: 'Dockerfile' });
    expect(errors[0]?.message).toMatch(
      /^slimpy could not find `\/prod_venv` in the stage this COPY copies from/,
    );
  });
});

describe('nothing removed', () => {
  it('the headline says the prune found environments and removed nothing', () => {
    const slimPlan = plan(MODEL_SERVER);
    const log = readPruneLog(['slimpy: 0.0 MB saved in 2 environment(s)']);
    const report = unchangedReport({ unchanged: unchangedReason(slimPlan, log, { savings: [] }) });
    expect(headline(report)).toBe(
      '**slimpy**: <code>Dockerfile</code> stays at 698.0 MB: the prune found 2 Python environments but removed nothing: no file in them matches a rule that is on.',
    );
  });

  it('a saving is not reported as unchanged', () => {
    const log = readPruneLog(['slimpy: 12.0 MB saved in 1 environment(s)']);
    const savings = [{ category: 'tests' as const, files: 3, bytes: 12 * MB }];
    expect(unchangedReason(plan(MODEL_SERVER), log, { savings })).toBeUndefined();
  });
});

describe('every variant failed', () => {
  it('the headline says so, with the full slim exit code and the rules tried', () => {
    const unchanged = allVariantsFailed(1, ['strip', 'tests', 'pycache']);
    const report = unchangedReport({ unchanged });
    expect(headline(report)).toBe(
      '**slimpy**: <code>Dockerfile</code> stays at 698.0 MB: every slimmed variant failed the smoke test: the full slim with exit code 1, and each variant without one rule (strip, tests, pycache) too; the original image is delivered.',
    );
    expect(renderText(report, { report: 'r.json' })).toContain(
      'Not slimmed: every slimmed variant failed the smoke test',
    );
  });
});

describe('nothing to prune', () => {
  it("the headline gives the plan's reason, such as a COPY source it could not resolve", () => {
    const slimPlan = plan(
      MODEL_SERVER.replace('COPY --from=builder $VIRTUAL_ENV', 'COPY --from=builder $UNDECLARED'),
    );
    const unchanged = unchangedReason(slimPlan, readPruneLog([]), { savings: [] });
    expect(unchanged?.kind).toBe('nothing-to-prune');
    const report = { ...unchangedReport({ unchanged, strategy: 'none' }), after: undefined };
    expect(headline(report)).toBe(
      '**slimpy**: <code>Dockerfile</code> stays at 698.0 MB (182.3 MB compressed): COPY source <code>&#36;UNDECLARED</code> from stage <code>builder</code> uses a variable slimpy could not resolve, so it is not pruned; pass it as a build arg to include it.',
    );
  });
});

describe('Why notes cite the installing RUN', () => {
  it('the pip RUN, not an earlier apt-get install of python3-dev', () => {
    const text = [
      'FROM python:3.11 AS builder',
      'RUN apt-get update && apt-get install -y python3-dev',
      'RUN pip install --prefix=/install flask',
      'FROM python:3.11-slim',
      'COPY --from=builder /install /usr/local',
      '',
    ].join('\n');
    expect(plan(text).notes.find((note) => note.startsWith('Added stage'))).toMatch(
      /because stage `builder` holds a Python environment \(its RUN at line 3 installs Python packages\)/,
    );
  });

  it('a single stage appends the prune to the pip RUN only, not to the apt-get RUN', () => {
    const text = [
      'FROM debian:12',
      'RUN apt-get update && apt-get install -y python3-pip python3-dev',
      'RUN pip install --break-system-packages flask',
      '',
    ].join('\n');
    const result = plan(text);
    expect(result.sameRun).toEqual([{ line: 3 }]);
    expect(result.notes.filter((note) => note.startsWith('Appended'))).toHaveLength(1);
  });
});
