import { describe, expect, it } from 'vitest';
import type { SlimResult, SlimpyReport, TraceReport } from '../../src/model/report.js';
import { renderReport } from '../../src/report/markdown.js';
import { renderText } from '../../src/report/text.js';
import { renderTraceSection } from '../../src/report/trace-markdown.js';
import { testImage, testReport } from '../support/report.js';

const MB = 1_000_000;

function slimResult(overrides: Partial<SlimResult> = {}): SlimResult {
  return {
    strategy: 'derived-stages',
    notes: [],
    skipped: [],
    variant: { strip: true, prune: ['tests', 'pycache'] },
    savings: [],
    strippedTop: [],
    dockerfilePath: 'out/Dockerfile.slimpy',
    patchPath: 'out/slimpy.patch',
    patch: '',
    warnings: [],
    ...overrides,
  };
}

/** A slimmed image's report, with the trace given. */
function slimReport(overrides: Partial<SlimpyReport> = {}): SlimpyReport {
  return testReport({ after: testImage(80 * MB), slim: slimResult(), ...overrides });
}

const SITE = '/app/.venv/lib/python3.11/site-packages';

const traced: TraceReport = {
  status: 'traced',
  environments: [SITE],
  environmentFiles: 4034,
  environmentBytes: 316.5 * MB,
  usedFiles: 258,
  usedBytes: 210.7 * MB,
  bytecodeBytes: 30.7 * MB,
  usedBytecodeFiles: 118,
  usedBytecodeBytes: 3.1 * MB,
  packages: [
    {
      name: 'pyarrow',
      version: '25.0.1',
      files: 900,
      bytes: 161.5 * MB,
      usedFiles: 90,
      usedBytes: 105.8 * MB,
    },
    { name: 'pip', version: '23.0.1', files: 990, bytes: 13.3 * MB, usedFiles: 0, usedBytes: 0 },
  ],
  unusedLibraries: [{ path: `${SITE}/pyarrow/libarrow_flight.so.2500`, size: 30 * MB }],
  processes: 9,
  stops: 786,
  durationMs: 5200,
};

describe('the trace in the report', () => {
  it('says what the smoke test used, what it never touched, and what unused would remove', () => {
    const body = renderTraceSection(slimReport({ trace: traced }));
    expect(body).toContain('#### What the smoke test used');
    expect(body).toContain('used 210.7 MB of the 316.5 MB in the Python environments (67 %');
    expect(body).toContain('read 3.1 MB of the 30.7 MB of bytecode');
    expect(body).toContain(
      '| <code>pyarrow 25.0.1</code> | 161.5 MB | 105.8 MB (66 %) | 55.7 MB |',
    );
    expect(body).toContain('| <code>pip 23.0.1</code> | 13.3 MB | never | 13.3 MB |');
    expect(body).toContain('<code>pyarrow/libarrow&#95;flight.so.2500</code> (30.0 MB)');
    expect(body).toContain('would also remove what the smoke test never touched, up to 105.8 MB');
    expect(body).not.toContain('is on');
  });

  it('says what unused risks and how to keep things when it is on, and what was restored', () => {
    const report = slimReport({ trace: traced });
    if (!report.slim) throw new Error('fixture has no slim result');
    report.slim.variant.prune = ['tests', 'pycache', 'unused'];
    report.slim.restored = ['tzdata'];
    const body = renderTraceSection(report);
    expect(body).toContain('`unused` is on'.replace(/`([^`]*)`/g, '<code>$1</code>'));
    expect(body).toContain('code paths it does not run');
    expect(body).toContain('<code>keep-packages: name</code>');
    expect(body).toContain('failed without the files of <code>tzdata</code>');
    expect(body).not.toContain('would also remove');
  });

  it('says why when the trace could not run', () => {
    const report = slimReport({
      trace: {
        ...traced,
        status: 'unavailable',
        reason: 'the image has neither python3 nor python on its PATH to run the tracer',
        packages: [],
        unusedLibraries: [],
      },
    });
    const body = renderTraceSection(report);
    expect(body).toContain('could not be traced: the image has neither python3 nor python');
    expect(body).toContain('The Python environments hold 316.5 MB');
  });

  it('is in the comment, the summary and the terminal text; absent without a trace', () => {
    const report = slimReport({ trace: traced });
    expect(renderReport(report, { commentKey: 'k' })).toContain('#### What the smoke test used');
    const text = renderText(report, { report: 'out/slimpy-report.json' });
    expect(text).toContain('The smoke test used 210.7 MB of the 316.5 MB');
    expect(text).toContain('55.7 MB never used of pyarrow 25.0.1');
    expect(renderTraceSection(slimReport())).toBe('');
  });
});
