import { describe, expect, it } from 'vitest';
import {
  alignRowsToLayers,
  historyBytes,
  layerOrigins,
  parseHistoryRow,
} from '../../src/measure/findings/origins.js';
import {
  BUILDKIT_HISTORY,
  buildkitLayers,
  CLASSIC_HISTORY,
  classicLayers,
  dir,
  file,
  layer,
  RECORDED_DOCKERFILE,
  rows,
  symlink,
} from '../fixtures/findings/layers.js';

const lines = (origins: ReturnType<typeof layerOrigins>): Array<number | undefined> =>
  origins.map((o) => o.line);

describe('layerOrigins: the Dockerfile line of each layer', () => {
  it.each([
    ['classic builder', CLASSIC_HISTORY, classicLayers, [4, 6, 7, 8, 9, 10, 12]],
    ['BuildKit', BUILDKIT_HISTORY, buildkitLayers, [4, 6, 7, 8, 9, 10, 12, 14]],
  ] as const)('%s history, base known or inferred', (_builder, history, layers, expected) => {
    for (const baseLayerCount of [1, 0]) {
      const origins = layerOrigins({
        layers: layers(),
        history,
        baseLayerCount,
        dockerfile: RECORDED_DOCKERFILE,
        buildArgs: { BASE: 'python:3.11' },
      });
      expect(lines(origins)).toEqual(expected);
      expect(origins.map((o) => o.base)).toEqual(expected.map((_, i) => i === 0));
    }
  });

  it('shows the instruction as written, flags included, on one line', () => {
    const origins = layerOrigins({
      layers: buildkitLayers(),
      history: BUILDKIT_HISTORY,
      baseLayerCount: 1,
      dockerfile: RECORDED_DOCKERFILE,
    });
    expect(origins.map((o) => o.instruction)).toEqual([
      'FROM ${BASE}',
      'WORKDIR /app',
      'COPY a.txt ./',
      'COPY --from=b /b.txt /opt/b.txt',
      'ADD a.txt /x/',
      'RUN echo "$FOO" > /f && echo two >> /f',
      'RUN ["sh", "-c", "echo exec > /e"]',
      'RUN true',
    ]);
    expect(origins.map((o) => o.keyword)).toEqual([
      'FROM',
      'WORKDIR',
      'COPY',
      'COPY',
      'ADD',
      'RUN',
      'RUN',
      'RUN',
    ]);
  });

  it('follows the target stage, not the last one', () => {
    const dockerfile =
      'FROM python:3.11 AS build\nRUN make\nFROM python:3.11-slim\nCOPY --from=build /out /out\n';
    const history = rows([100, ''], [50, 'RUN /bin/sh -c make # buildkit']);
    const layers = [layer([file('/base', 100)]), layer([file('/out/x', 50)])];
    const origins = layerOrigins({
      layers,
      history,
      baseLayerCount: 1,
      dockerfile,
      target: 'build',
    });
    expect(lines(origins)).toEqual([1, 2]);
  });

  it("a stage built FROM an earlier stage: the earlier stage's instructions made layers too", () => {
    const dockerfile =
      'FROM debian AS common\nRUN apt-get update\nFROM common\nRUN rm -rf /var/lib/apt/lists\n';
    const history = rows(
      [100, ''],
      [40, 'RUN /bin/sh -c apt-get update # buildkit'],
      [0, 'RUN /bin/sh -c rm -rf /var/lib/apt/lists # buildkit'],
    );
    const layers = [
      layer([file('/base', 100)]),
      layer([file('/var/lib/apt/lists/x', 40)]),
      layer([], { whiteouts: ['/var/lib/apt/lists'] }),
    ];
    expect(lines(layerOrigins({ layers, history, baseLayerCount: 1, dockerfile }))).toEqual([
      1, 2, 4,
    ]);
  });

  it('without a Dockerfile: the history text and no line', () => {
    const origins = layerOrigins({
      layers: classicLayers(),
      history: CLASSIC_HISTORY,
      baseLayerCount: 1,
    });
    expect(lines(origins)).toEqual(new Array(7).fill(undefined));
    expect(origins[5]?.instruction).toBe('RUN echo "$FOO" > /f && echo two >> /f');
    expect(origins[3]?.instruction).toMatch(/^COPY file:17a3/);
  });

  it('a history that cannot explain the layers: no lines rather than a guess', () => {
    const history = rows([10, ''], [5, 'RUN /bin/sh -c x # buildkit']);
    const layers = [layer([file('/a', 10)]), layer([file('/b', 5)]), layer([file('/c', 7)])];
    const origins = layerOrigins({
      layers,
      history,
      baseLayerCount: 1,
      dockerfile: 'FROM x\nRUN x\nRUN y\n',
    });
    expect(lines(origins)).toEqual([1, undefined, undefined]);
    expect(origins[2]?.instruction).toBe('layer 3');
  });

  it('ONBUILD triggers of the base run first and map to no line of this Dockerfile', () => {
    const dockerfile = 'FROM app-base\nRUN pip install .\n';
    const history = rows(
      [100, ''],
      [0, '/bin/sh -c #(nop)  ONBUILD COPY . /src'],
      [30, '/bin/sh -c #(nop) COPY dir:abc in /src '],
      [60, '/bin/sh -c pip install .'],
    );
    const layers = [
      layer([file('/base', 100)]),
      layer([file('/src/x', 30)]),
      layer([file('/venv/y', 60)]),
    ];
    expect(lines(layerOrigins({ layers, history, baseLayerCount: 1, dockerfile }))).toEqual([
      1,
      undefined,
      2,
    ]);
  });
});

describe('alignRowsToLayers', () => {
  it('pairs a zero-byte layer of whiteouts with the RUN that deleted, not the WORKDIR before it', () => {
    const history = rows(
      [10, ''],
      [0, 'WORKDIR /app'],
      [0, 'RUN /bin/sh -c rm -rf /tmp/x # buildkit'],
    );
    const layers = [layer([file('/a', 10)]), layer([], { whiteouts: ['/tmp/x'] })];
    expect(alignRowsToLayers(history, layers)).toEqual([0, 2]);
  });

  it('counts symlinks by their target length, as the engine does', () => {
    expect(historyBytes(layer([file('/a', 10), symlink('/l', 'a/b/c'), dir('/d')]))).toBe(15);
  });
});

describe('parseHistoryRow', () => {
  it.each([
    ['/bin/sh -c #(nop) COPY file:abc in /app/ ', 'COPY', 'file:abc in /app/'],
    ['/bin/sh -c #(nop)  ENV A=1 B=2', 'ENV', 'A=1 B=2'],
    ['|2 A=1 B=2 /bin/sh -c make   all', 'RUN', '/bin/sh -c make all'],
    ['RUN /bin/sh -c pip install x # buildkit', 'RUN', '/bin/sh -c pip install x'],
    ['COPY --chown=1 . /app # buildkit', 'COPY', '--chown=1 . /app'],
    ['python -m pip install x', 'RUN', 'python -m pip install x'],
    ['', undefined, ''],
  ])('%j', (createdBy, keyword, text) => {
    expect(parseHistoryRow(createdBy)).toEqual({ keyword, text });
  });
});
