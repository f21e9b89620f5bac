/** Report builders for tests: one place that knows every required field of the report model. */
import type {
  EngineFacts,
  Finding,
  ImageMeasurement,
  SlimpyReport,
} from '../../src/model/report.js';
import { REPORT_VERSION } from '../../src/model/report.js';

export function testEngine(overrides: Partial<EngineFacts> = {}): EngineFacts {
  return {
    version: '26.1.5',
    apiVersion: '1.45',
    store: 'classic',
    storageDriver: 'overlay2',
    builder: 'buildkit',
    ...overrides,
  };
}

/** An image of `size` bytes with no layers or files unless given. */
export function testImage(
  size: number,
  overrides: Partial<ImageMeasurement> = {},
): ImageMeasurement {
  return {
    id: `sha256:${'b'.repeat(64)}`,
    size,
    layers: [],
    largestFiles: [],
    baseSize: 0,
    ownSize: size,
    ...overrides,
  };
}

/** A measure-mode report of a 100 MB image; slim mode when `after` or `slim` is given. */
export function testReport(overrides: Partial<SlimpyReport> = {}): SlimpyReport {
  const slim = overrides.after !== undefined || overrides.slim !== undefined;
  return {
    version: REPORT_VERSION,
    mode: slim ? 'slim' : 'measure',
    dockerfile: 'Dockerfile',
    engine: testEngine(),
    before: testImage(100e6),
    warnings: [],
    ...overrides,
  };
}

/** A finding with its words; the facts default to one file in layer 1. */
export function testFinding(
  finding: Pick<Finding, 'kind' | 'title' | 'bytes' | 'instruction' | 'fix'> & Partial<Finding>,
): Finding {
  return { paths: [], layer: 1, files: 1, parts: [], ...finding };
}
