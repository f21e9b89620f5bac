import { describe, expect, it } from 'vitest';
import { wordFindings } from '../../src/report/findings-wording.js';
import {
  computeFindings as computeFacts,
  duplicateHashRequests,
  type FindingsInput,
} from '../../src/measure/findings.js';
import { hashKey } from '../../src/measure/findings/content-hash.js';
import type { FileEntry, LayerContent } from '../../src/measure/layers.js';
import { file, hardlink, layer, rows } from '../fixtures/findings/layers.js';

const MB = 1_000_000;
const DOCKERFILE = `FROM python:3.11
RUN apt-get update && apt-get install -y gcc python3-dev
COPY wheels /wheels
RUN pip install /wheels/*.whl
RUN rm -rf /wheels /var/lib/apt/lists
RUN cp /venv/lib/a/data.bin /big2
`;
const DATA = '/venv/lib/a/data.bin';

function bytesOf(files: FileEntry[]): number {
  return files.reduce((sum, f) => sum + (f.type === 'file' ? f.size : 0), 0);
}

/** A single-stage image with one of everything, and its BuildKit history. */
function scenario(): FindingsInput {
  const layers: LayerContent[] = [
    layer(
      [
        file('/usr/bin/python3', 5 * MB),
        file('/usr/share/base.txt', 2 * MB),
        file('/etc/big', 3 * MB),
      ],
      { compressed: 4 * MB },
    ),
    layer(
      [
        file('/usr/lib/gcc/x86_64-linux-gnu/12/cc1', 30 * MB),
        file('/usr/include/python3.11/Python.h', 1_100_000),
        file('/usr/share/doc/gcc-12/changelog.Debian.gz', 2_200_000),
        file('/var/lib/dpkg/info/gcc-12.list', 1000),
        file('/var/lib/apt/lists/mirror.example_Packages', 20 * MB),
        file('/usr/lib/x86_64-linux-gnu/libstdc++.so.6', 2_400_000),
        file('/var/lib/dpkg/status', 500_000),
      ],
      { compressed: 30 * MB },
    ),
    layer([file('/wheels/a-1.0-py3-none-any.whl', 4 * MB)]),
    layer([
      file(DATA, 8 * MB),
      file('/root/.cache/pip/http/x', 3_300_000),
      file('/etc/big', 1 * MB),
      file('/var/lib/dpkg/status', 600_000),
    ]),
    layer([], { whiteouts: ['/wheels', '/var/lib/apt/lists'] }),
    layer([file('/big2', 8 * MB)]),
  ];
  const history = rows(
    [bytesOf(layers[0]!.files), ''],
    [0, 'CMD ["python3"]'],
    [
      bytesOf(layers[1]!.files),
      'RUN /bin/sh -c apt-get update && apt-get install -y gcc python3-dev # buildkit',
    ],
    [bytesOf(layers[2]!.files), 'COPY wheels /wheels # buildkit'],
    [bytesOf(layers[3]!.files), 'RUN /bin/sh -c pip install /wheels/*.whl # buildkit'],
    [0, 'RUN /bin/sh -c rm -rf /wheels /var/lib/apt/lists # buildkit'],
    [bytesOf(layers[5]!.files), 'RUN /bin/sh -c cp /venv/lib/a/data.bin /big2 # buildkit'],
  );
  return { layers, history, baseLayerCount: 1, dockerfile: DOCKERFILE, baseImage: 'python:3.11' };
}

function withHashes(input: FindingsInput): FindingsInput {
  const [l3, l5] = [input.layers[3]!, input.layers[5]!];
  const contentHashes = new Map([
    [hashKey(l3.diffId, DATA), 'same'],
    [hashKey(l5.diffId, '/big2'), 'same'],
  ]);
  return { ...input, contentHashes };
}

/** The findings as the report shows them: facts and words. */
function computeFindings(
  ...args: Parameters<typeof computeFacts>
): ReturnType<typeof wordFindings> {
  return wordFindings(computeFacts(...args));
}

describe('computeFindings', () => {
  it('finds each kind once, on the line that made it, biggest first', () => {
    const findings = computeFindings({ ...withHashes(scenario()), slimVariantSize: 50 * MB });
    expect(findings.map((f) => [f.kind, f.line, f.bytes])).toEqual([
      ['build-toolchain', 2, 33_300_000],
      ['package-leftovers', 2, 20 * MB],
      ['base-image', 1, 10 * MB],
      ['duplicate-files', 6, 8 * MB],
      ['install-inputs', 3, 4 * MB],
      ['package-leftovers', 4, 3_300_000],
      ['layer-waste', 1, 3 * MB],
    ]);
  });

  it('says what it is, what to change, and shows the evidence', () => {
    const byKind = new Map(
      computeFindings({ ...withHashes(scenario()), slimVariantSize: 50 * MB }).map((f) => [
        `${f.kind}:${f.line}`,
        f,
      ]),
    );
    const toolchain = byKind.get('build-toolchain:2');
    expect(toolchain?.title).toBe('Build toolchain in the final image: `gcc-12`');
    expect(toolchain?.fix).toMatch(/^Move this RUN to a builder stage/);
    expect(toolchain?.instruction).toBe('RUN apt-get update && apt-get install -y gcc python3-dev');
    expect(toolchain?.paths).toEqual([
      '/usr/lib/gcc/x86_64-linux-gnu/12/cc1',
      '/usr/share/doc/gcc-12/changelog.Debian.gz',
      '/usr/include/python3.11/Python.h',
    ]);
    const lists = byKind.get('package-leftovers:2');
    expect(lists?.title).toBe('Package manager leftovers: apt package lists');
    expect(lists?.fix).toContain('`rm -rf /var/lib/apt/lists/*`');
    expect(lists?.fix).toContain('removing them in a later layer (line 5) does not help');
    const wheels = byKind.get('install-inputs:3');
    expect(wheels?.title).toBe('Install inputs left in the image: 1 wheel');
    expect(wheels?.fix).toMatch(/^Mount the packages/);
    expect(byKind.get('package-leftovers:4')?.fix).toContain('--no-cache-dir');
    expect(byKind.get('layer-waste:1')?.fix).toContain('(line 4)');
    expect(byKind.get('layer-waste:1')?.paths).toEqual(['/etc/big']);
    expect(byKind.get('duplicate-files:6')?.title).toContain(`\`/big2\`, repeats \`${DATA}\``);
    const base = byKind.get('base-image:1');
    expect(base?.title).toBe(
      "Base image `python:3.11`: 10.0 MB of the image's 91.1 MB (your layers: 81.1 MB)",
    );
    expect(base?.fix).toMatch(/^`python:3\.11-slim` \(50\.0 MB on this engine\) would do/);
    expect(base?.compressedBytes).toBe(4 * MB);
  });

  it('counts every byte in one finding at most, and never bookkeeping or runtime libraries', () => {
    const input = withHashes(scenario());
    const findings = computeFindings({ ...input, minBytes: 0 }).filter(
      (f) => f.kind !== 'base-image',
    );
    const all = findings.flatMap((f) => f.paths);
    expect(new Set(all).size).toBe(all.length);
    expect(all).not.toContain('/var/lib/dpkg/status');
    expect(all).not.toContain('/usr/lib/x86_64-linux-gnu/libstdc++.so.6');
    const total = input.layers.flatMap((l) => l.files).reduce((sum, f) => sum + f.size, 0);
    expect(findings.reduce((sum, f) => sum + f.bytes, 0)).toBeLessThanOrEqual(total);
  });

  it("estimates compressed bytes as the finding's share of its layer", () => {
    const toolchain = computeFindings(scenario()).find((f) => f.kind === 'build-toolchain');
    const layerBytes = 30 * MB + 1_100_000 + 2_200_000 + 1000 + 20 * MB + 2_400_000 + 500_000;
    expect(toolchain?.compressedBytes).toBe(Math.round((33_300_000 * 30 * MB) / layerBytes));
    expect(
      computeFindings(scenario()).find((f) => f.kind === 'install-inputs')?.compressedBytes,
    ).toBeUndefined();
  });

  it('leaves out findings under minBytes, and duplicates without content hashes', () => {
    const findings = computeFindings({ ...scenario(), minBytes: 5 * MB });
    expect(findings.map((f) => f.kind)).toEqual([
      'build-toolchain',
      'package-leftovers',
      'base-image',
    ]);
  });

  it('asks to hash only equal-sized visible files with a copy in the own layers', () => {
    expect(
      duplicateHashRequests(scenario())
        .map((r) => r.path)
        .sort(),
    ).toEqual(['/big2', DATA]);
  });

  it('a hardlink is not a duplicate of its target', () => {
    const layers = [
      layer([file('/base', 10 * MB)]),
      layer([file('/a', 2 * MB), hardlink('/b', '/a')]),
    ];
    const history = rows([10 * MB, ''], [2 * MB, 'RUN /bin/sh -c x # buildkit']);
    expect(duplicateHashRequests({ layers, history, baseLayerCount: 1 })).toEqual([]);
  });

  it('a toolchain copied in from another stage: copy only the result', () => {
    const dockerfile = 'FROM debian:bookworm-slim\nCOPY --from=build / /\n';
    const layers = [
      layer([file('/bin/sh', 2 * MB)]),
      layer([file('/usr/bin/x86_64-linux-gnu-ld.bfd', 2 * MB)]),
    ];
    const history = rows([2 * MB, ''], [2 * MB, 'COPY / / # buildkit']);
    const [finding] = computeFindings({
      layers,
      history,
      baseLayerCount: 1,
      dockerfile,
      baseImage: 'debian:bookworm-slim',
    });
    expect(finding).toMatchObject({
      kind: 'build-toolchain',
      line: 2,
      title: 'Build toolchain in the final image: binutils',
    });
    expect(finding?.fix).toMatch(/^Copy only the build's result/);
  });

  it('without a Dockerfile the findings carry the history text and no line', () => {
    const findings = computeFindings({ ...scenario(), dockerfile: undefined });
    expect(findings.every((f) => f.line === undefined)).toBe(true);
    expect(findings[0]?.instruction).toBe(
      'RUN apt-get update && apt-get install -y gcc python3-dev',
    );
  });

  it('no base-image advice for a slim, unofficial or unknown base', () => {
    for (const baseImage of ['python:3.11-slim', 'acme/python:3.11', undefined]) {
      expect(
        computeFindings({ ...scenario(), baseImage }).some((f) => f.kind === 'base-image'),
      ).toBe(false);
    }
  });
});
