import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { BuildProgress } from '../../src/engine/build-progress.js';
import { chooseBuilder, imageStoreOf, versionAtLeast } from '../../src/engine/docker.js';

describe('builder choice', () => {
  it.each([
    ['20.10.24+dfsg1', '1.41', 'classic', 'buildkit'],
    ['26.1.5', '1.45', 'classic', 'buildkit'],
    ['26.1.5', '1.45', 'containerd', 'classic'],
    ['27.5.0', '1.47', 'containerd', 'buildkit'],
    ['29.0.1', '1.52', 'containerd', 'buildkit'],
    ['18.06.0', '1.38', 'classic', 'classic'],
  ] as const)('Engine %s (API %s, %s store) uses %s', (version, apiVersion, store, builder) => {
    const choice = chooseBuilder({ version, apiVersion, store });
    expect(choice.builder).toBe(builder);
    if (builder === 'classic') expect(choice.reason).toBeTruthy();
  });

  it('explains the containerd-store fallback and what it costs', () => {
    const choice = chooseBuilder({ version: '26.1.5', apiVersion: '1.45', store: 'containerd' });
    expect(choice.reason).toMatch(/moby\/moby#47717/);
    expect(choice.reason).toMatch(/RUN --mount/);
  });

  it('compares versions numerically', () => {
    expect(versionAtLeast('27.10', '27.5')).toBe(true);
    expect(versionAtLeast('27.4.9', '27.5')).toBe(false);
    expect(versionAtLeast('1.41', '1.39')).toBe(true);
  });

  it('detects the containerd image store from the driver status', () => {
    expect(imageStoreOf({ DriverStatus: [['driver-type', 'io.containerd.snapshotter.v1']] })).toBe(
      'containerd',
    );
    expect(
      imageStoreOf({ Driver: 'overlay2', DriverStatus: [['Backing Filesystem', 'extfs']] }),
    ).toBe('classic');
  });
});

/** Encodes a BuildKit StatusResponse the way the engine streams it. */
function trace(status: { vertexes?: object[]; logs?: object[] }): string {
  const root = protobuf.Root.fromJSON({
    nested: {
      S: {
        fields: {
          vertexes: { rule: 'repeated', type: 'V', id: 1 },
          logs: { rule: 'repeated', type: 'L', id: 3 },
        },
      },
      V: {
        fields: {
          digest: { type: 'string', id: 1 },
          name: { type: 'string', id: 3 },
          cached: { type: 'bool', id: 4 },
          error: { type: 'string', id: 7 },
        },
      },
      L: { fields: { vertex: { type: 'string', id: 1 }, msg: { type: 'bytes', id: 4 } } },
    },
  });
  const type = root.lookupType('S');
  return Buffer.from(type.encode(type.fromObject(status)).finish()).toString('base64');
}

describe('build progress', () => {
  it('decodes BuildKit logs and names the failing vertex', () => {
    const lines: string[] = [];
    const progress = new BuildProgress((line) => lines.push(line));
    progress.handle({
      id: 'moby.buildkit.trace',
      aux: trace({ vertexes: [{ digest: 'd1', name: '[2/3] RUN make' }] }),
    });
    progress.handle({
      id: 'moby.buildkit.trace',
      aux: trace({ logs: [{ vertex: 'd1', msg: Buffer.from('compiling\nlinking\n') }] }),
    });
    progress.handle({
      id: 'moby.buildkit.trace',
      aux: trace({ vertexes: [{ digest: 'd1', error: 'exit code: 2' }] }),
    });
    progress.handle({
      errorDetail: {
        message: 'process "/bin/sh -c make" did not complete successfully: exit code: 2',
      },
    });
    expect(progress.failedInstruction).toBe('[2/3] RUN make');
    expect(progress.error).toMatch(/exit code: 2/);
    expect(lines).toContain('   compiling');
    expect(lines).toContain('   linking');
  });

  it("a line written in several chunks is one line in the log (the prune's strip summary)", () => {
    const lines: string[] = [];
    const progress = new BuildProgress((line) => lines.push(line));
    const log = (text: string): void =>
      progress.handle({
        id: 'moby.buildkit.trace',
        aux: trace({ logs: [{ vertex: 'd1', msg: Buffer.from(text) }] }),
      });
    log('slimpy: strip        12 files  568.9 MB -> 457.5 MB');
    log(', 6 kept as they were');
    log('\nslimpy: 111.4 MB saved in 1 environment(s)\nno newline at the end');
    progress.handle({ stream: 'Step 1/2 : RUN sh prune.sh\nslimpy: strip  1 files' });
    progress.handle({ stream: ' 1.0 MB -> 0.5 MB\n' });
    progress.finish();
    expect(lines).toEqual([
      '   slimpy: strip        12 files  568.9 MB -> 457.5 MB, 6 kept as they were',
      '   slimpy: 111.4 MB saved in 1 environment(s)',
      'Step 1/2 : RUN sh prune.sh',
      'slimpy: strip  1 files 1.0 MB -> 0.5 MB',
      '   no newline at the end',
    ]);
  });

  it('reads the classic builder: steps, image id, error', () => {
    const ok = new BuildProgress();
    ok.handle({ stream: 'Step 1/2 : FROM x\n' });
    ok.handle({ aux: { ID: 'sha256:abc' } });
    expect(ok.imageId).toBe('sha256:abc');
    const failed = new BuildProgress();
    failed.handle({ stream: 'Step 2/3 : RUN exit 3\n' });
    failed.handle({
      error: "The command '/bin/sh -c exit 3' returned a non-zero code: 3",
      errorDetail: { message: 'returned a non-zero code: 3' },
    });
    expect(failed.failedInstruction).toBe('RUN exit 3');
  });

  it('keeps a bounded tail of a huge log', () => {
    const progress = new BuildProgress();
    for (let i = 0; i < 100_000; i++) progress.handle({ stream: `line ${i}\n` });
    expect(progress.lastLines().length).toBeLessThanOrEqual(60);
    expect(progress.lastLines().at(-1)).toBe('line 99999');
  });
});
