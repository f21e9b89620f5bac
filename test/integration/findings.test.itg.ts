import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage } from '../../src/engine/build.js';
import { runContainer } from '../../src/engine/containers.js';
import { createContextTar } from '../../src/engine/context.js';
import { removeOwnObjects } from '../../src/engine/images.js';
import { slimpyLabels } from '../../src/engine/labels.js';
import { imageFindings } from '../../src/measure/findings.js';
import { measureImage } from '../../src/measure/sizes.js';
import type { Finding } from '../../src/model/report.js';
import { wordFindings } from '../../src/report/findings-wording.js';
import { baseImage, engineMissing, testDocker } from '../support/engine.js';

const docker = testDocker();
const runId = `test-findings-${process.pid}`;
const labels = { ...slimpyLabels(runId), 'dev.slimpy.test': 'findings' };
const FIXTURES = 'test/fixtures/findings';
const work = mkdtempSync(path.join(os.tmpdir(), 'slimpy-findings-'));
/** Tags this suite puts on the base image (official-looking names, to get -slim advice); removed at the end. */
const FULL_TAG = 'debian:findingstest';
const SLIM_TAG = 'debian:findingstest-slim';
const BUILD_TIME = new Set(['build-toolchain', 'install-inputs', 'package-leftovers']);

async function build(
  context: string,
  buildArgs: Record<string, string> = { PYTHON_IMAGE: baseImage() },
): Promise<string> {
  const tar = await createContextTar(context, { dockerfile: 'Dockerfile' });
  return buildImage(docker, {
    context: tar.stream,
    dockerfile: tar.dockerfileInContext,
    buildArgs,
    network: 'host',
    builder: 'buildkit',
    labels,
  });
}

async function findingsOf(
  image: string,
  context: string,
  options: { base?: string; compressed?: boolean } = {},
): Promise<Finding[]> {
  const base = options.base ?? baseImage();
  const measured = await measureImage(docker, image, {
    compressed: options.compressed ?? false,
    cacheDir: path.join(work, 'gzip-cache'),
    baseImage: base,
  });
  const facts = await imageFindings(docker, measured, {
    dockerfile: readFileSync(path.join(context, 'Dockerfile'), 'utf8'),
    buildArgs: { PYTHON_IMAGE: base },
    baseImage: base,
  });
  return wordFindings(facts);
}

/** Runs `script` with sh in the image (no network) and returns its stdout. */
async function inImage(image: string, script: string): Promise<string> {
  const run = await runContainer(docker, {
    image,
    cmd: ['sh', '-c', script],
    entrypoint: [],
    user: '0',
    timeoutMs: 120_000,
    labels,
  });
  expect(run.exitCode, run.output).toBe(0);
  return run.output.trim();
}

/** Sum of the sizes of the regular files `find` lists (hardlinks once, by inode). */
async function findBytes(image: string, findArgs: string): Promise<number> {
  const out = await inImage(
    image,
    `find ${findArgs} -type f -printf '%i %s\\n' 2>/dev/null | sort -u | awk '{ s += $2 } END { print s + 0 }'`,
  );
  expect(out).toMatch(/^\d+$/);
  return Number(out);
}

function kindsAndLines(findings: Finding[]): Array<[string, number | undefined]> {
  return findings.map((finding) => [finding.kind, finding.line]);
}

function expectClose(actual: number, expected: number): void {
  expect(expected).toBeGreaterThan(0);
  expect(Math.abs(actual - expected) / expected).toBeLessThan(0.01);
}

beforeAll(async () => {
  if (engineMissing()) return;
  const base = docker.getImage(baseImage());
  await base.tag({ repo: 'debian', tag: 'findingstest' });
  await base.tag({ repo: 'debian', tag: 'findingstest-slim' });
});

afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  if (engineMissing()) return;
  for (const tag of [FULL_TAG, SLIM_TAG])
    await docker
      .getImage(tag)
      .remove({ noprune: true })
      .catch(() => undefined);
  await removeOwnObjects(docker, runId);
});

describe.skipIf(engineMissing())('findings on real images', () => {
  it('a compiler installed in the final stage: the toolchain, on its RUN line', async () => {
    const context = `${FIXTURES}/toolchain`;
    const image = await build(context);
    const findings = await findingsOf(image, context);
    expect(kindsAndLines(findings)).toEqual([['build-toolchain', 4]]);
    const [toolchain] = findings;
    expect(toolchain?.title).toMatch(/`gcc-12`/);
    expect(toolchain?.paths).toContain('/usr/lib/gcc/x86_64-linux-gnu/12/cc1');
    const triplet = '[a-z0-9_]+-linux-gnu[a-z]*';
    // The same places, measured by find in the running image.
    const toolchainRegex = [
      '/usr/lib/gcc/.*',
      '/usr/libexec/gcc/.*',
      '/usr/(local/)?include/.*',
      `/usr/bin/(${triplet}-)?(gcc|g\\+\\+|cpp|c89-gcc|c99-gcc|gcov|gcov-dump|gcov-tool|lto-dump)(-ar|-nm|-ranlib)?(-[0-9]+)?`,
      `/usr/bin/(${triplet}-)?(ld|ld\\.bfd|ld\\.gold|gold|as|ar|nm|ranlib|objcopy|objdump|readelf|size|strings|addr2line|c\\+\\+filt|elfedit|gprof|gprofng|dwp|gp-[a-z-]+)`,
      `/usr/lib/${triplet}/lib(asan|hwasan|lsan|tsan|ubsan|cc1|isl|mpc|mpfr)\\.so[.0-9]*`,
      `/usr/lib/${triplet}/(libbfd|libopcodes|libctf|libctf-nobfd|libsframe|libgprofng)[-.][^/]*`,
      `/usr/lib/${triplet}/gprofng/.*`,
      '/usr/lib/bfd-plugins/.*',
      '/usr/share/locale/[^/]+/LC_MESSAGES/(bfd|binutils|gas|gold|gprof|gprofng|ld|opcodes|gcc|gcc-[0-9]+|cpplib|cpplib-[0-9]+)\\.mo',
      `/usr/lib/(${triplet}/)?[^/]+\\.(a|o)`,
      '/usr/lib/python3\\.[0-9]+/config-[^/]+/.*',
      // Docs of the toolchain packages (the base image ships no docs at all).
      '/usr/share/doc/((gcc|cpp)(-[0-9]+)?|binutils.*|libbinutils|.+-dev|libc-dev-bin|lib(asan|tsan|lsan|ubsan|hwasan)[0-9]+|libisl[0-9]+|libmpc[0-9]+|libmpfr[0-9]+|libcc1-[0-9]+|libctf0|libctf-nobfd0|libgprofng[0-9]+)/.*',
    ].join('|');
    const measured = await findBytes(
      image,
      `/ -xdev -regextype posix-extended -regex '(${toolchainRegex})'`,
    );
    const inBase = await findBytes(
      baseImage(),
      `/ -xdev -regextype posix-extended -regex '(${toolchainRegex})'`,
    );
    expectClose(toolchain?.bytes ?? 0, measured - inBase);
    expect(toolchain?.bytes).toBeGreaterThan(150e6);
  });

  it('wheels and an sdist copied in for the install: install inputs, on the COPY line', async () => {
    const context = `${FIXTURES}/install-inputs`;
    const image = await build(context);
    const findings = await findingsOf(image, context);
    expect(kindsAndLines(findings)).toEqual([['install-inputs', 8]]);
    expect(findings[0]?.paths.sort()).toEqual([
      '/packages/demo-1.0-py3-none-any.whl',
      '/packages/demo_extra-1.0.tar.gz',
    ]);
    expectClose(
      findings[0]?.bytes ?? 0,
      await findBytes(image, `/packages \\( -name '*.whl' -o -name '*.tar.gz' \\)`),
    );
  });

  it('apt lists and caches, and a pip cache: package leftovers, on the lines that left them', async () => {
    const context = `${FIXTURES}/leftovers`;
    const image = await build(context);
    const findings = await findingsOf(image, context);
    expect(kindsAndLines(findings)).toEqual([
      ['package-leftovers', 4],
      ['package-leftovers', 6],
    ]);
    const [apt, pip] = findings;
    expect(apt?.title).toMatch(/apt package lists, apt's package cache/);
    const aptBytes =
      (await findBytes(image, '/var/lib/apt/lists')) +
      (await findBytes(image, `/var/cache/apt/archives -name '*.deb'`)) +
      (await findBytes(image, `/var/cache/apt -maxdepth 1 -name '*.bin'`));
    expectClose(apt?.bytes ?? 0, aptBytes);
    expect(pip?.title).toMatch(/pip cache/);
    expectClose(pip?.bytes ?? 0, await findBytes(image, '/root/.cache/pip'));
  });

  it('files deleted or overwritten later: each hidden copy once, hardlinks once, with the hiding lines', async () => {
    const context = `${FIXTURES}/waste`;
    const image = await build(context);
    const findings = await findingsOf(image, context, { compressed: true });
    expect(kindsAndLines(findings)).toEqual([
      ['layer-waste', 4],
      ['layer-waste', 9],
    ]);
    const [first, second] = findings;
    // a.bin (3 MB, hardlinked once) and b.bin deleted with /data/big on line 10; conf.bin overwritten on line 9.
    expect(first?.bytes).toBe(3_000_000 + 2_000_000 + 1_500_000);
    expect(first?.fix).toContain('lines 9 and 10');
    expect(second?.bytes).toBe(1_200_000);
    expect(second?.fix).toContain('line 11');
    // Random bytes do not compress: the estimated share is about the bytes themselves.
    expectClose(first?.compressedBytes ?? 0, first?.bytes ?? 0);
    // What is left is what the last layer wrote.
    expect(await inImage(image, 'test ! -e /data/big && stat -c %s /data/conf.bin')).toBe(
      '1100000',
    );
  });

  it('identical content at several paths: the extra copies, hardlinks and same-size files not counted', async () => {
    const context = `${FIXTURES}/duplicates`;
    const image = await build(context);
    const findings = await findingsOf(image, context);
    expect(kindsAndLines(findings)).toEqual([
      ['duplicate-files', 5],
      ['duplicate-files', 9],
    ]);
    expect(findings.map((finding) => finding.paths)).toEqual([
      ['/opt/d/two.bin'],
      ['/srv/copy.bin'],
    ]);
    const sums = await inImage(
      image,
      'cd / && sha256sum opt/d/one.bin opt/d/two.bin srv/copy.bin opt/other.bin | cut -c1-64',
    );
    const [one, two, copy, other] = sums.split('\n');
    expect([two, copy]).toEqual([one, one]);
    expect(other).not.toBe(one);
    for (const finding of findings)
      expectClose(finding.bytes, await findBytes(image, finding.paths[0] ?? '/nonexistent'));
  });

  it('a full official base with a -slim twin: the base layers, on the FROM line, with the twin size', async () => {
    const context = `${FIXTURES}/base-image`;
    const image = await build(context, { PYTHON_IMAGE: FULL_TAG });
    const findings = await findingsOf(image, context, { base: FULL_TAG });
    expect(kindsAndLines(findings)).toEqual([['base-image', 3]]);
    const base = await docker.getImage(FULL_TAG).inspect();
    expectClose(findings[0]?.bytes ?? 0, base.Size);
    expect(findings[0]?.fix).toContain(`\`${SLIM_TAG}\``);
    expect(findings[0]?.fix).toMatch(/\d MB on this engine/);
  });

  it('the clean multi-stage example: no toolchain, install inputs or package leftovers', async () => {
    const context = 'examples/pyarrow-duckdb';
    const image = await build(context);
    const findings = await findingsOf(image, context);
    expect(findings.filter((finding) => BUILD_TIME.has(finding.kind))).toEqual([]);
    // Whatever remains is attributed to the COPY of the virtual environment, never to the builder stage.
    for (const finding of findings) expect(finding.line).toBe(15);
  });
});
