import { describe, expect, it } from 'vitest';
import { instructionLine } from '../../src/dockerfile/parse.js';
import { BuildError, parseErrorLine } from '../../src/engine/build.js';
import { isConnectionError } from '../../src/engine/docker.js';

describe('the Dockerfile line a build failure points at', () => {
  it.each([
    [
      'BuildKit (Engine 20.10)',
      'failed to solve with frontend dockerfile.v0: failed to create LLB definition: dockerfile parse error line 3: unknown instruction: RUNN',
      3,
    ],
    ['BuildKit (newer)', 'dockerfile parse error on line 12: unknown instruction: COPPY', 12],
    ['the classic builder', 'Dockerfile parse error line 7: unknown instruction: RUNN', 7],
    ['a failing RUN', 'executor failed running [/bin/sh -c exit 7]: exit code: 7', undefined],
  ])('reads the line of a parse error from %s', (_builder, reason, line) => {
    expect(parseErrorLine(reason)).toBe(line);
    expect(new BuildError(reason, undefined, []).line).toBe(line);
  });

  const dockerfile = [
    'ARG PYTHON_IMAGE',
    'FROM ${PYTHON_IMAGE} AS builder',
    'RUN echo "before the failure"',
    'run pip install \\',
    '    --no-index   -r requirements.txt',
    'FROM builder',
    'RUN echo "about to fail" && exit 7',
    '',
  ].join('\n');

  it.each([
    ['BuildKit', '[builder 2/2] RUN echo "about to fail" && exit 7', 7],
    ['the classic builder', 'RUN echo "about to fail" && exit 7', 7],
    [
      'a continued, lower-case instruction',
      '[builder 2/3] RUN pip install --no-index -r requirements.txt',
      4,
    ],
    ['an instruction not in the file', '[2/2] RUN something else', undefined],
    ['nothing', '', undefined],
  ])('finds the instruction %s names', (_what, named, line) => {
    expect(instructionLine(dockerfile, named)).toBe(line);
  });
});

describe('connection errors, told apart from the engine’s answers', () => {
  it.each([
    [
      'a response cut off (the engine stopped)',
      Object.assign(new Error('aborted'), { code: 'ECONNRESET' }),
      true,
    ],
    ['no socket', Object.assign(new Error('connect ENOENT /x.sock'), { code: 'ENOENT' }), true],
    ['refused', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), true],
    ['socket hang up', new Error('socket hang up'), true],
    [
      'an HTTP answer',
      Object.assign(new Error('(HTTP code 404) no such image'), { statusCode: 404 }),
      false,
    ],
    ['a build failure', new BuildError('exit code: 7', 'RUN exit 7', []), false],
    ['not an error', 'aborted', false],
  ])('%s', (_what, error, connection) => {
    expect(isConnectionError(error)).toBe(connection);
  });
});

describe('build failures whose engine message does not say what to do', () => {
  it('an engine without a bridge network: set `network`', () => {
    const error = new BuildError(
      'executor failed running [/bin/sh -c pip install x]: network bridge not found',
      '[2/2] RUN pip install x',
      [],
    );
    expect(error.message.split('\n')[0]).toBe(
      'The image build failed at `[2/2] RUN pip install x`: executor failed running [/bin/sh -c pip install x]: ' +
        'network bridge not found (this engine has no bridge network: set `network` (--network) to `host`, ' +
        'or to `none` when the RUN steps need no network)',
    );
  });
});
