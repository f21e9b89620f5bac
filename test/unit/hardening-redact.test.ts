import { describe, expect, it } from 'vitest';
import { createEntry } from '../../src/history/entry.js';
import { readSettings } from '../../src/inputs.js';
import {
  looksSecret,
  MASK,
  redactDeep,
  redactText,
  secretBuildArgValues,
} from '../../src/report/redact.js';
import { testImage, testReport } from '../support/report.js';

describe('which build args are secret', () => {
  it.each([
    ['API_TOKEN', true],
    ['GITHUB_TOKEN', true],
    ['token', true],
    ['AWS_SECRET_ACCESS_KEY', true],
    ['NPM_AUTH', true],
    ['DB_PASSWORD', true],
    ['PIP_INDEX_CREDENTIALS', true],
    ['SSH_KEY', true],
    ['APIKEY', true],
    ['PUBLIC_KEY', false],
    ['PYTHON_IMAGE', false],
    ['KEYBOARD_LAYOUT', false],
    ['TOKENIZER_MODEL', false],
  ])('%s: %s', (name, secret) => {
    expect(looksSecret(name)).toBe(secret);
  });

  it('takes the values of secret-looking args, longest first, and not those too short to matter', () => {
    expect(
      secretBuildArgValues({
        PYTHON_IMAGE: 'python:3.11-slim',
        API_TOKEN: 'abcd',
        DB_PASSWORD: 'correct horse battery',
        SHORT_TOKEN: 'x1',
      }),
    ).toEqual(['correct horse battery', 'abcd']);
  });
});

describe('redaction', () => {
  const secrets = ['s3cr3t-value', 'abcd'];

  it('masks every occurrence in text', () => {
    expect(redactText('a s3cr3t-value b s3cr3t-value abcd', secrets)).toBe(
      `a ${MASK} b ${MASK} ${MASK}`,
    );
  });

  it('masks a whole report, as BuildKit puts build args in the layer history, and leaves numbers alone', () => {
    const layer = {
      diffId: 'sha256:1',
      size: 1234,
      createdBy: 'RUN |1 API_TOKEN=s3cr3t-value /bin/sh -c pip install',
      base: false,
    };
    const report = { before: { size: 1234, layers: [layer] }, warnings: ['got abcd'] };
    const redacted = redactDeep(report, secrets);
    expect(redacted).toEqual({
      before: {
        size: 1234,
        layers: [{ ...layer, createdBy: `RUN |1 API_TOKEN=${MASK} /bin/sh -c pip install` }],
      },
      warnings: [`got ${MASK}`],
    });
    expect(report.before.layers[0]!.createdBy).toContain('s3cr3t-value'); // a copy, not an edit
  });
});

describe('the size history entry', () => {
  it('records build-arg names, never their values', () => {
    const settings = readSettings(
      (name) => ({ 'build-args': 'PYTHON_IMAGE=python:3.11\nAPI_TOKEN=s3cr3t-value' })[name] ?? '',
      { workspace: '/w', outputDir: '/o', cacheDir: '/c', runId: 'r' },
    );
    const report = testReport({ before: testImage(1) });
    const entry = createEntry(report, settings, {
      kind: 'pull-request',
      sha: 'a'.repeat(40),
      commentKey: 'k',
    });
    expect(entry.settings.buildArgNames).toEqual(['API_TOKEN', 'PYTHON_IMAGE']);
    expect(JSON.stringify(entry)).not.toContain('s3cr3t-value');
    expect(JSON.stringify(entry)).not.toContain('python:3.11');
  });
});
