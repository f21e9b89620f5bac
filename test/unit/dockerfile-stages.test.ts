import { describe, expect, test } from 'vitest';
import { finalBaseImage, listStages } from '../../src/dockerfile/plan.js';
import { expandVariables } from '../../src/dockerfile/variables.js';

describe('listStages', () => {
  test('names, indices, lines and what each stage builds FROM', () => {
    const text = [
      '# syntax=docker/dockerfile:1',
      'ARG PY=python:3.11-slim',
      'FROM --platform=$BUILDPLATFORM ${PY} as Builder',
      'RUN pip install flask',
      '',
      'FROM builder AS test',
      'FROM scratch',
      '',
    ].join('\n');
    expect(listStages(text)).toEqual([
      { index: 0, name: 'Builder', from: 'python:3.11-slim', line: 3 },
      { index: 1, name: 'test', from: 'builder', fromStage: 0, line: 6 },
      { index: 2, from: 'scratch', line: 7 },
    ]);
  });

  test.each<{ buildArgs: Record<string, string> | undefined; from: string }>([
    { buildArgs: undefined, from: 'python:3.11-slim' },
    { buildArgs: { PY: 'python:3.13' }, from: 'python:3.13' },
    { buildArgs: { OTHER: 'x' }, from: 'python:3.11-slim' },
  ])('build args override ARG defaults: $buildArgs', ({ buildArgs, from }) => {
    expect(listStages('ARG PY=python:3.11-slim\nFROM ${PY}\n', buildArgs)[0]?.from).toBe(from);
  });

  test('a build arg for an ARG that is not declared before FROM does not reach FROM, as in Docker', () => {
    expect(() => listStages('FROM ${IMAGE}\n', { IMAGE: 'python:3' })).toThrow(
      /resolves to an empty image name/,
    );
  });

  test('several ARGs on one line, and quoted defaults', () => {
    const text = 'ARG REGISTRY=docker.io TAG="3.12-slim"\nFROM ${REGISTRY}/library/python:${TAG}\n';
    expect(listStages(text)[0]?.from).toBe('docker.io/library/python:3.12-slim');
  });

  test('a FROM can refer to a stage name through an ARG', () => {
    const text = 'ARG BASE=builder\nFROM python:3 AS builder\nFROM $BASE\n';
    expect(listStages(text)[1]).toMatchObject({ from: 'builder', fromStage: 0 });
  });
});

describe('finalBaseImage', () => {
  const text = [
    'ARG PY=python:3.11',
    'FROM ${PY} AS builder',
    'FROM builder AS tested',
    'FROM tested AS app',
    'FROM scratch AS empty',
    '',
  ].join('\n');

  test.each([
    { target: 'app', image: 'python:3.11' },
    { target: 'builder', image: 'python:3.11' },
    { target: undefined, image: undefined },
  ])('follows FROM <stage> chains to the image (target $target)', ({ target, image }) => {
    expect(finalBaseImage(text, { target })).toBe(image);
  });

  test('uses build args', () => {
    expect(finalBaseImage(text, { target: 'app', buildArgs: { PY: 'python:3.13-slim' } })).toBe(
      'python:3.13-slim',
    );
  });
});

describe('expandVariables', () => {
  const lookup = (name: string): string | undefined => ({ SET: 'value', EMPTY: '' })[name];

  test.each([
    { text: '$SET', value: 'value', unresolved: [] },
    { text: '${SET}-x', value: 'value-x', unresolved: [] },
    { text: '${MISSING}', value: '', unresolved: ['MISSING'] },
    { text: '${MISSING:-fallback}', value: 'fallback', unresolved: [] },
    { text: '${EMPTY:-fallback}', value: 'fallback', unresolved: [] },
    { text: '${EMPTY-fallback}', value: '', unresolved: [] },
    { text: '${SET:+alt}', value: 'alt', unresolved: [] },
    { text: '${MISSING:+alt}', value: '', unresolved: [] },
    { text: '${MISSING:-${SET}}', value: 'value', unresolved: [] },
    { text: '\\$SET', value: '$SET', unresolved: [] },
    { text: 'cost: $5', value: 'cost: $5', unresolved: [] },
  ])('$text', ({ text, value, unresolved }) => {
    expect(expandVariables(text, lookup)).toEqual({ value, unresolved });
  });

  test('the escape directive changes what keeps $ literal', () => {
    expect(expandVariables('`$SET', lookup, '`').value).toBe('$SET');
  });
});
