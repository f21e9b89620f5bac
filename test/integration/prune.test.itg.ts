/**
 * prune.sh against a real engine: a virtual environment with the example's real wheels (pyarrow,
 * duckdb, numpy, prometheus_client) and small synthetic environments built by
 * test/fixtures/prune/make-env.sh, under dash (Debian's /bin/sh) and, on the host, busybox.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  parseManifest,
  prunedBytes,
  savedBytes,
  type PruneManifest,
} from '../../src/slim/manifest.js';
import { loadPruneScript } from '../../src/slim/script.js';
import { baseImage, engineMissing, testDocker } from '../support/engine.js';
import {
  buildPruneTestImage,
  PRUNE_FIXTURES,
  runInContainer,
  type ContainerRun,
} from '../support/prune-container.js';

/** The script as builds run it: with the package exceptions slimpy writes into it. */
const SCRIPT = join(mkdtempSync(join(tmpdir(), 'slimpy-prune-script-')), 'prune.sh');
writeFileSync(SCRIPT, loadPruneScript(), { mode: 0o755 });
const FIXTURES = PRUNE_FIXTURES;
const SITE = '/app/.venv/lib/python3.11/site-packages';
/** Every run writes what the test reads into /tmp/out; P runs the script under test. */
const PRELUDE = `set -u; mkdir -p /tmp/out; P='sh /slimpy/prune.sh'; M=/slimpy-test/make-env.sh
run() { name=$1; shift; $P --manifest /tmp/out/$name.json "$@" >/tmp/out/$name.out 2>/tmp/out/$name.err; echo $? >/tmp/out/$name.rc; }
`;

interface ElfFact {
  size: number;
  sha256: string;
  mode: number;
  uid: number;
}

interface Probe {
  bytes: number;
  elf: Record<string, ElfFact>;
  namedSoNotElf: Record<string, { size: number; sha256: string }>;
  distInfos: string[];
  testDirs: string[];
  suffixes: Record<string, number>;
  sha256: Record<string, string>;
  exists: Record<string, boolean>;
}

/** The files one run left in /tmp/out. */
class Outputs {
  constructor(readonly result: ContainerRun) {}

  text(name: string): string {
    const text = this.result.files.get(name);
    if (text === undefined) {
      throw new Error(`no ${name} in the run's output; container said:\n${this.result.logs}`);
    }
    return text;
  }

  rc(name: string): number {
    return Number(this.text(`${name}.rc`).trim());
  }

  manifest(name: string): PruneManifest {
    return parseManifest(this.text(`${name}.json`));
  }

  probe(name: string): Probe {
    return JSON.parse(this.text(name)) as Probe;
  }
}

/** Runs `sh -c SHELL` in a fresh container of IMAGE with prune.sh at /slimpy/prune.sh. */
async function runIn(
  image: string,
  shell: string,
  options: { user?: string; network?: 'none' | 'host' } = {},
): Promise<Outputs> {
  const fixtures = ['make-env.sh', 'probe.py', 'smoke.py'].map((name) => ({
    name: `slimpy-test/${name}`,
    path: join(FIXTURES, name),
  }));
  const files = [{ name: 'slimpy/prune.sh', path: SCRIPT }, ...fixtures];
  return new Outputs(await runInContainer(image, PRELUDE + shell, files, options));
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

const missing = engineMissing();

describe.skipIf(missing !== '')('prune.sh in a real container', () => {
  const image = `slimpy-test/prune:${process.pid}`;

  beforeAll(async () => {
    await buildPruneTestImage(testDocker(), image);
  });

  afterAll(async () => {
    const docker = testDocker();
    const leftovers = await docker.listContainers({
      all: true,
      filters: { label: ['dev.slimpy.test=prune'], ancestor: [image] },
    });
    for (const info of leftovers) await docker.getContainer(info.Id).remove({ force: true });
    await docker
      .getImage(image)
      .remove({ force: true })
      .catch(() => undefined);
  });

  it('slims a real pyarrow + numpy + duckdb venv and everything still imports and works', async () => {
    const sample = `${SITE}/pyarrow/x.some-named-index.parquet`;
    const out = await runIn(
      image,
      `S=${SITE}
      cp "$S/pyarrow/tests/data/parquet/v0.7.1.some-named-index.parquet" ${sample}
      python3 /slimpy-test/probe.py /app/.venv ${sample} "$S/numpy/testing/__init__.py" >/tmp/out/before.json
      run default /app/.venv
      python3 /slimpy-test/probe.py /app/.venv ${sample} "$S/numpy/testing/__init__.py" >/tmp/out/after.json
      /app/.venv/bin/python /slimpy-test/smoke.py >/tmp/out/smoke.txt 2>&1; echo $? >/tmp/out/smoke.rc`,
    );
    expect(out.rc('default'), out.text('default.err')).toBe(0);
    expect(out.rc('smoke'), out.text('smoke.txt')).toBe(0);
    expect(out.text('smoke.txt')).toContain('smoke ok');

    const before = out.probe('before.json');
    const after = out.probe('after.json');
    const manifest = out.manifest('default');
    expect(before.testDirs.length).toBeGreaterThan(10);
    expect(after.testDirs).toEqual([]);
    expect(after.exists[`${SITE}/numpy/testing/__init__.py`]).toBe(true);
    // Only pip's and setuptools' own metadata goes: the rest backs importlib.metadata.
    expect(after.distInfos).toEqual(
      before.distInfos.filter((d) => !/\/(pip|setuptools)-[0-9]/.test(d)),
    );
    expect(after.distInfos.length).toBe(4);
    expect(after.sha256[sample]).toBe(before.sha256[sample]);
    expect(after.suffixes['.pyi'] ?? 0).toBe(0);
    expect(after.suffixes['.pyc'] ?? 0).toBe(0);
    expect(after.suffixes['.pxd'] ?? 0).toBe(0);
    expect(after.suffixes['.a'] ?? 0).toBe(0);

    // ELF files: smaller or, when the stripped copy failed a check, byte-identical.
    const restored = new Set(manifest.strip.restored);
    for (const [path, was] of Object.entries(before.elf)) {
      const now = after.elf[path];
      if (now === undefined) continue; // removed with a tests directory or pip
      expect(now.mode, path).toBe(was.mode);
      expect(now.uid, path).toBe(was.uid);
      if (restored.has(path)) expect(now.sha256, path).toBe(was.sha256);
      else expect(now.size, path).toBeLessThanOrEqual(was.size);
    }
    const libarrow = `${SITE}/pyarrow/libarrow.so.2500`;
    expect(after.elf[libarrow]?.size).toBeLessThan(before.elf[libarrow]?.size ?? 0);
    // numpy's auditwheel-repaired openblas: plain strip breaks its segment alignment
    // (pypa/auditwheel#716), so it must stay as it was.
    const openblas = Object.keys(before.elf).find((p) =>
      p.includes('/numpy.libs/libscipy_openblas'),
    );
    expect(openblas && restored.has(openblas)).toBe(true);

    expect(manifest.strip.status).toBe('done');
    expect(manifest.environments).toEqual([{ path: SITE, venv: true }]);
    for (const name of [
      'tests',
      'pycache',
      'stubs',
      'sources',
      'static-libs',
      'packaging',
    ] as const) {
      expect(manifest.categories[name].bytes, name).toBeGreaterThan(0);
    }
    const top = manifest.strip.top.map((f) => f.before - f.after);
    expect(top).toEqual([...top].sort((a, b) => b - a));
    expect(top.length).toBeLessThanOrEqual(20);
    expect(manifest.strip.top[0]?.path).toBe(libarrow);
    // The manifest's numbers account for every byte the venv lost.
    expect(savedBytes(manifest)).toBe(before.bytes - after.bytes);

    const lines = [
      `venv ${megabytes(before.bytes)} -> ${megabytes(after.bytes)} (-${megabytes(before.bytes - after.bytes)}, ${((100 * (before.bytes - after.bytes)) / before.bytes).toFixed(1)}%)`,
      ...Object.entries(manifest.categories).map(
        ([name, c]) => `  ${name}: ${c.files} files, ${megabytes(c.bytes)}`,
      ),
      `  strip: ${manifest.strip.files} files, ${megabytes(manifest.strip.bytesBefore - manifest.strip.bytesAfter)} (${manifest.strip.restored.length} kept as they were)`,
      `  pruned ${megabytes(prunedBytes(manifest))}`,
    ];
    console.log(`prune on the example venv:\n${lines.join('\n')}`);
  });

  it('keeps a broken ELF byte-identical and strips the others (--prune none)', async () => {
    const parquet = `${SITE}/pyarrow/tests/data/parquet/v0.7.1.some-named-index.parquet`;
    const broken = `${SITE}/pyarrow/libbroken.so`;
    const out = await runIn(
      image,
      `{ printf '\\177ELF\\002\\001\\001'; head -c 4000 /dev/urandom; } >${broken}
      python3 /slimpy-test/probe.py /app/.venv ${parquet} ${broken} >/tmp/out/before.json
      run none --prune none /app/.venv
      python3 /slimpy-test/probe.py /app/.venv ${parquet} ${broken} >/tmp/out/after.json`,
    );
    expect(out.rc('none'), out.text('none.err')).toBe(0);
    const before = out.probe('before.json');
    const after = out.probe('after.json');
    const manifest = out.manifest('none');
    expect(after.sha256[broken]).toBe(before.sha256[broken]);
    expect(manifest.strip.restored).toContain(broken);
    expect(out.text('none.out')).toContain(`kept the original ${broken}`);
    // A non-ELF file named like a library (*.so*) is never opened by strip.
    expect(after.sha256[parquet]).toBe(before.sha256[parquet]);
    expect(after.testDirs).toEqual(before.testDirs);
    expect(prunedBytes(manifest)).toBe(0);
    expect(manifest.prune).toEqual([]);
    const lib = `${SITE}/pyarrow/libparquet.so.2500`;
    expect(after.elf[lib]?.size).toBeLessThan(before.elf[lib]?.size ?? 0);
    expect(manifest.strip.files).toBeGreaterThan(50);
    expect(manifest.strip.bytesBefore - manifest.strip.bytesAfter).toBe(before.bytes - after.bytes);
  });

  it('puts back the original when strip "succeeds" but writes a damaged file', async () => {
    // A strip that exits 0 after writing a truncated copy: the checks after strip catch it.
    const out = await runIn(
      image,
      `mkdir -p /tmp/fakebin
      printf '%s\\n' '#!/bin/sh' 'while [ $# -gt 0 ]; do case $1 in -o) o=$2; shift;; -*) ;; *) i=$1;; esac; shift; done' 'head -c 100000 "$i" >"$o"' >/tmp/fakebin/strip
      chmod +x /tmp/fakebin/strip
      sh $M /tmp/env --elf ${SITE}/pyarrow/libarrow_acero.so.2500
      python3 /slimpy-test/probe.py /tmp/env >/tmp/out/before.json
      PATH=/tmp/fakebin:$PATH run fake --prune none /tmp/env
      python3 /slimpy-test/probe.py /tmp/env >/tmp/out/after.json`,
    );
    expect(out.rc('fake'), out.text('fake.err')).toBe(0);
    const before = out.probe('before.json');
    const after = out.probe('after.json');
    const manifest = out.manifest('fake');
    expect(Object.keys(before.elf)).toHaveLength(3);
    expect(after.elf).toEqual(before.elf);
    expect(manifest.strip.restored).toHaveLength(3);
    expect(manifest.strip.bytesAfter).toBe(manifest.strip.bytesBefore);
  });

  it('strips and prunes odd file names (spaces, newlines, quotes, markup) without breaking', async () => {
    const root = '/tmp/my env "x"';
    const out = await runIn(
      image,
      `sh $M '${root}' --venv --elf ${SITE}/pyarrow/libarrow_acero.so.2500
      cd /tmp && run odd '${root}' '/tmp/no such
      root'
      python3 /slimpy-test/probe.py '${root}' >/tmp/out/after.json
      ls /tmp >/tmp/out/tmp.txt`,
    );
    expect(out.rc('odd'), out.text('odd.err')).toBe(0);
    const manifest = out.manifest('odd');
    const site = `${root}/lib/python3.11/site-packages`;
    expect(manifest.roots).toEqual([root]);
    expect(manifest.environments).toEqual([{ path: site, venv: true }]);
    expect(manifest.warnings).toEqual([
      'root /tmp/no such\n      root does not exist or is not a directory; skipped',
    ]);
    expect(manifest.categories).toEqual({
      tests: { files: 8, bytes: expect.any(Number) },
      pycache: { files: 3, bytes: expect.any(Number) },
      stubs: { files: 5, bytes: expect.any(Number) },
      sources: { files: 5, bytes: expect.any(Number) },
      'static-libs': { files: 1, bytes: expect.any(Number) },
      packaging: { files: 0, bytes: 0 },
      caches: { files: 2, bytes: expect.any(Number) },
      unused: { files: 0, bytes: 0 },
    });
    const odd = `${site}/pkg/lib we\nird "x" <b>.so`;
    expect(manifest.strip.top.map((f) => f.path).sort()).toEqual(
      [`${site}/pkg/libreal.so`, odd].sort(),
    );
    expect(manifest.strip.restored).toEqual([`${site}/pkg/libbroken.so`]);
    const after = out.probe('after.json');
    expect(Object.keys(after.elf)).toContain(odd);
    // A top-level package named tests stays, and metadata is never touched.
    expect(after.testDirs).toEqual([`${site}/pkg-1.0.dist-info/tests`, `${site}/tests`]);
    expect(out.text('tmp.txt')).not.toContain('pwned'); // `$(touch pwned).pyi` was only a name
  });

  it('installs binutils when the stage has no strip, and removes it and the apt lists after', async () => {
    // The only run with a network: apt-get has to download binutils.
    const out = await runIn(
      baseImage(),
      `cp /usr/bin/python3.11 /tmp/python-copy
      sh $M /tmp/env --elf /tmp/python-copy && run install /tmp/env
      { command -v strip || echo 'no strip'; ls -A /var/lib/apt/lists; ls /var/cache/apt/archives; } >/tmp/out/after.txt 2>&1
      dpkg-query -W -f '\${db:Status-Abbrev} \${Package}\n' | grep -E 'binutils|libctf|libbfd' >>/tmp/out/after.txt`,
      { network: 'host' },
    );
    expect(out.rc('install'), out.text('install.err')).toBe(0);
    const manifest = out.manifest('install');
    expect(manifest.strip.status).toBe('done');
    expect(manifest.strip.files).toBe(3);
    expect(manifest.warnings).toEqual([]);
    const after = out.text('after.txt');
    expect(after).toContain('no strip');
    expect(after).not.toMatch(/_Packages|\.deb|^ii /m);
  });

  it('skips strip with a warning when the stage has no strip and cannot install it', async () => {
    // The base image has no binutils. Offline, apt-get cannot fetch it; without apt-get there is
    // no package manager at all. Pruning goes on either way and the build does not fail.
    const out = await runIn(
      baseImage(),
      `sh $M /tmp/a && run offline /tmp/a
      ls -A /var/lib/apt/lists >/tmp/out/lists.txt
      rm -f /usr/bin/apt-get && sh $M /tmp/b && run nopm /tmp/b`,
    );
    for (const [name, reason] of [
      ['offline', 'apt-get could not install binutils'],
      ['nopm', 'no package manager'],
    ] as const) {
      expect(out.rc(name), out.text(`${name}.err`)).toBe(0);
      expect(out.text(`${name}.err`)).toMatch(/^slimpy: warning: strip skipped: /m);
      const manifest = out.manifest(name);
      expect(manifest.strip.status).toBe('skipped');
      expect(manifest.strip.reason).toContain(reason);
      expect(manifest.warnings.some((w) => w.includes(reason))).toBe(true);
      expect(manifest.categories.tests.files).toBe(8);
    }
    // The failed attempt leaves no package lists behind (the image had none).
    expect(
      out
        .text('lists.txt')
        .split('\n')
        .filter((l) => l.endsWith('_Packages')),
    ).toEqual([]);
  });

  it('skips strip with a warning when not root, and prunes what the user owns', async () => {
    const out = await runIn(baseImage(), `sh $M /tmp/env && run nobody /tmp/env`, {
      user: '65534:65534',
    });
    expect(out.rc('nobody'), out.text('nobody.err')).toBe(0);
    const manifest = out.manifest('nobody');
    expect(manifest.strip.status).toBe('skipped');
    expect(manifest.strip.reason).toContain('without root');
    expect(out.text('nobody.err')).toContain('slimpy: warning: strip skipped');
    expect(manifest.categories.tests.files).toBe(8);
  });

  it('honours --keep, --prune subsets, --prune none and --no-strip', async () => {
    const probeArgs = [
      '/tmp/k/lib/python3.11/site-packages/keepme/tests/t.py',
      "'/tmp/k/lib/python3.11/site-packages/pkg/tests/with space.py'",
      '/tmp/k/lib/python3.11/site-packages/pkg/tests/test_a.py',
      '/tmp/s/lib/python3.11/site-packages/pkg/mod.pyc',
    ].join(' ');
    const out = await runIn(
      baseImage(),
      `for d in k s n; do sh $M /tmp/$d; done
      python3 /slimpy-test/probe.py /tmp/n >/tmp/out/n-before.json
      run keep --no-strip --keep '*/keepme/tests/*' --keep '*/pkg/tests/with space.py' /tmp/k
      run subset --no-strip --prune tests,stubs /tmp/s
      run none --no-strip --prune none /tmp/n
      run bad --prune tests,bogus /tmp/n
      run badopt --frobnicate /tmp/n
      python3 /slimpy-test/probe.py /tmp/n >/tmp/out/n-after.json
      python3 /slimpy-test/probe.py /tmp ${probeArgs} >/tmp/out/exists.json`,
    );
    const exists = out.probe('exists.json').exists;
    const keep = out.manifest('keep');
    expect(out.rc('keep')).toBe(0);
    expect(keep.strip).toMatchObject({ status: 'disabled', files: 0 });
    expect(keep.categories.tests.files).toBe(6);
    expect(Object.values(exists)).toEqual([true, true, false, true]);

    const subset = out.manifest('subset');
    expect(subset.prune).toEqual(['tests', 'stubs']);
    expect(subset.categories.tests.files).toBe(8);
    expect(subset.categories.stubs.files).toBe(5);
    expect(subset.categories.pycache.files + subset.categories.sources.files).toBe(0);

    const none = out.manifest('none');
    expect(prunedBytes(none)).toBe(0);
    expect(out.probe('n-after.json')).toEqual(out.probe('n-before.json'));

    for (const name of ['bad', 'badopt']) {
      expect(out.rc(name)).toBe(2);
      expect(out.text(`${name}.err`)).toContain('usage: sh prune.sh');
      expect(out.result.files.get(`${name}.json`)).toBeUndefined();
    }
    expect(out.text('bad.err')).toContain("unknown prune category 'bogus'");
  });

  it('removes pip, setuptools and wheel only from virtual environments, and never a requirement', async () => {
    // /tmp/v: a real venv; /tmp/sys: the same packages outside a venv (a system Python);
    // /tmp/w: a venv where another distribution requires setuptools at run time.
    const out = await runIn(
      baseImage(),
      `python3 -m venv /tmp/v && cp -a /tmp/v /tmp/w
      mkdir -p /tmp/sys/lib/python3.11 && cp -a /tmp/v/lib/python3.11/site-packages /tmp/sys/lib/python3.11/
      d=/tmp/w/lib/python3.11/site-packages/needs_setuptools-1.0.dist-info
      mkdir -p $d && printf 'Name: needs-setuptools\nRequires-Dist: setuptools>=40\n' >$d/METADATA
      run packaging --no-strip --prune packaging /tmp/v /tmp/sys /tmp/w
      ls -A /tmp/v/bin /tmp/v/lib/python3.11/site-packages >/tmp/out/v.txt
      ls -A /tmp/sys/lib/python3.11/site-packages >/tmp/out/sys.txt
      ls -A /tmp/w/lib/python3.11/site-packages >/tmp/out/w.txt
      /tmp/v/bin/python -c 'import sys; print("ok")' >/tmp/out/py.txt 2>&1`,
    );
    expect(out.rc('packaging'), out.text('packaging.err')).toBe(0);
    const manifest = out.manifest('packaging');
    expect(manifest.environments).toEqual([
      { path: '/tmp/v/lib/python3.11/site-packages', venv: true },
      { path: '/tmp/sys/lib/python3.11/site-packages', venv: false },
      { path: '/tmp/w/lib/python3.11/site-packages', venv: true },
    ]);
    const venv = out.text('v.txt');
    for (const gone of [
      'pip\n',
      'pip3\n',
      'setuptools\n',
      'pkg_resources',
      '_distutils_hack',
      'distutils-precedence.pth',
    ]) {
      expect(venv).not.toContain(gone);
    }
    expect(venv).not.toMatch(/^(pip|setuptools)-[0-9].*dist-info$/m);
    expect(venv).toMatch(/^python3?$/m);
    // No "Error processing line 1 of distutils-precedence.pth": the .pth went with setuptools.
    expect(out.text('py.txt')).toBe('ok\n');
    expect(out.text('sys.txt')).toMatch(/^pip-[0-9].*dist-info$/m);
    expect(out.text('sys.txt')).toMatch(/^setuptools$/m);
    expect(out.text('w.txt')).toMatch(/^setuptools$/m);
    expect(out.text('w.txt')).not.toMatch(/^pip$/m);
    expect(manifest.warnings).toEqual([
      'packaging: kept setuptools in /tmp/w: needs_setuptools-1.0.dist-info requires it',
    ]);
    expect(manifest.categories.packaging.files).toBeGreaterThan(500);
  });
});

describe('prune.sh on the host', () => {
  const busybox = spawnSync('busybox', ['--list']);
  let work = '';

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'slimpy-prune-'));
  });

  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
  });

  it('parses under dash', () => {
    const result = spawnSync('dash', ['-n', SCRIPT], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
  });

  it.each([
    { shell: 'dash', command: ['dash'] },
    { shell: 'busybox sh', command: ['busybox', 'sh'] },
  ])(
    'links identical files into one (--dedupe) under $shell, and leaves those that differ in mode alone',
    ({ shell, command }) => {
      if (shell === 'busybox sh') expect(busybox.status, 'busybox is not installed').toBe(0);
      const site = join(work, `dedupe ${shell}`, 'lib/python3.11/site-packages');
      const data = randomBytes(200_000);
      const files = {
        original: join(site, 'numpy.libs/libgfortran.so.5'),
        copy: join(site, 'scipy.libs/libgfortran.so.5'),
        otherMode: join(site, 'other.libs/libgfortran.so.5'),
        small: join(site, 'numpy.libs/small.bin'),
        smallCopy: join(site, 'scipy.libs/small.bin'),
      };
      for (const path of Object.values(files)) mkdirSync(dirname(path), { recursive: true });
      for (const path of [files.original, files.copy, files.otherMode]) writeFileSync(path, data);
      chmodSync(files.otherMode, 0o600);
      for (const path of [files.small, files.smallCopy])
        writeFileSync(path, data.subarray(0, 1000));
      const manifestPath = join(work, `dedupe-${shell}.json`);
      const [program = 'sh', ...args] = command;
      const run = spawnSync(
        program,
        [
          ...args,
          SCRIPT,
          '--no-strip',
          '--prune',
          'none',
          '--dedupe',
          '--manifest',
          manifestPath,
          site,
        ],
        { encoding: 'utf8' },
      );
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toContain('slimpy: duplicates        1 files  0.2 MB linked');
      expect(statSync(files.copy).ino).toBe(statSync(files.original).ino);
      expect(readFileSync(files.copy).equals(data)).toBe(true);
      expect(statSync(files.otherMode).ino).not.toBe(statSync(files.original).ino);
      expect(statSync(files.smallCopy).ino).not.toBe(statSync(files.small).ino);
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { dedupe: unknown };
      expect(manifest.dedupe).toEqual({ files: 1, bytes: 200_000 });
      // The manifest still parses for everything else.
      expect(parseManifest(readFileSync(manifestPath, 'utf8')).prune).toEqual([]);
    },
  );

  it('runs under busybox sh with busybox applets (Alpine)', () => {
    // scripts/test.sh installs busybox; without it this test fails rather than passing unseen.
    expect(busybox.status, 'busybox is not installed').toBe(0);
    expect(spawnSync('which', ['strip']).status, 'strip (binutils) is not installed').toBe(0);
    // Every command busybox provides comes from busybox (as on Alpine); strip is the host's
    // binutils, as `apk add binutils` would give.
    const bin = join(work, 'bin');
    spawnSync('mkdir', ['-p', bin]);
    for (const applet of busybox.stdout.toString().split('\n').filter(Boolean)) {
      spawnSync('ln', [
        '-s',
        spawnSync('which', ['busybox']).stdout.toString().trim(),
        join(bin, applet),
      ]);
    }
    const env = join(work, 'env with space');
    const elf = spawnSync('which', ['busybox']).stdout.toString().trim();
    const made = spawnSync('sh', [join(FIXTURES, 'make-env.sh'), env, '--venv', '--elf', elf], {
      encoding: 'utf8',
    });
    expect(made.status, made.stderr).toBe(0);
    const manifestPath = join(work, 'manifest.json');
    const run = spawnSync(
      'busybox',
      ['sh', SCRIPT, '--keep', '*/keepme/tests/*', '--manifest', manifestPath, env],
      {
        encoding: 'utf8',
        env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` },
      },
    );
    expect(run.status, run.stderr).toBe(0);
    const manifest = parseManifest(readFileSync(manifestPath, 'utf8'));
    expect(manifest.categories.tests.files).toBe(7);
    expect(manifest.categories.pycache.files).toBe(3);
    expect(manifest.categories.stubs.files).toBe(5);
    expect(manifest.categories.sources.files).toBe(5);
    expect(manifest.categories['static-libs'].files).toBe(1);
    expect(manifest.categories.caches.files).toBe(2);
    const site = `${env}/lib/python3.11/site-packages`;
    expect(manifest.strip.status).toBe('done');
    expect(manifest.strip.restored).toEqual([`${site}/pkg/libbroken.so`]);
    expect(manifest.strip.files).toBe(3);
  });
});
