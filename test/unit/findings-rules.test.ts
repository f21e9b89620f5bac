import { describe, expect, it } from 'vitest';
import {
  dpkgListPackage,
  inputPart,
  installInputDirs,
  isBookkeeping,
  isToolchainPackage,
  leftoverPart,
  toolchainPart,
} from '../../src/measure/findings/rules.js';
import { slimVariant } from '../../src/measure/findings/slim-variant.js';

describe('toolchainPart', () => {
  it.each([
    ['/usr/lib/gcc/x86_64-linux-gnu/12/cc1', 'compiler'],
    ['/usr/libexec/gcc/aarch64-linux-gnu/13/cc1plus', 'compiler'],
    ['/usr/bin/gcc-12', 'compiler'],
    ['/usr/bin/x86_64-linux-gnu-g++-12', 'compiler'],
    ['/usr/bin/x86_64-linux-gnu-lto-dump-12', 'compiler'],
    ['/usr/lib/x86_64-linux-gnu/libasan.so.8.0.0', 'compiler'],
    ['/usr/bin/x86_64-linux-gnu-ld.bfd', 'binutils'],
    ['/usr/bin/as', 'binutils'],
    ['/usr/lib/x86_64-linux-gnu/libbfd-2.40-system.so', 'binutils'],
    ['/usr/share/locale/de/LC_MESSAGES/gas.mo', 'binutils'],
    ['/usr/include/python3.11/Python.h', 'headers'],
    ['/usr/local/include/python3.11/Python.h', 'headers'],
    ['/usr/lib/x86_64-linux-gnu/libc.a', 'static-libs'],
    ['/usr/lib/x86_64-linux-gnu/crt1.o', 'static-libs'],
    ['/usr/lib/python3.11/config-3.11-x86_64-linux-gnu/libpython3.11.a', 'static-libs'],
    ['/usr/bin/make', 'build-tools'],
    ['/usr/share/cmake-3.25/Modules/FindPython.cmake', 'build-tools'],
    ['/usr/local/cargo/bin/cargo', 'rust'],
    ['/root/.rustup/toolchains/stable/lib/librustc_driver.so', 'rust'],
    ['/usr/local/go/bin/go', 'go'],
  ])('%s is %s', (path, part) => {
    expect(toolchainPart(path)).toBe(part);
  });

  it.each([
    '/usr/lib/x86_64-linux-gnu/libgcc_s.so.1',
    '/usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30',
    '/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0',
    '/app/.venv/lib/python3.11/site-packages/pyarrow/include/arrow/api.h',
    '/app/.venv/lib/python3.11/site-packages/numpy/core/lib/libnpymath.a',
    '/usr/bin/python3.11',
    '/usr/bin/ldd',
  ])('%s is what a running app may need (or prune handles)', (path) => {
    expect(toolchainPart(path)).toBeUndefined();
  });
});

describe('leftoverPart', () => {
  it.each([
    [
      '/var/lib/apt/lists/mirror.example_debian_dists_bookworm_main_binary-amd64_Packages',
      'apt-lists',
    ],
    ['/var/cache/apt/archives/make_4.3-4.1_amd64.deb', 'apt-cache'],
    ['/var/cache/apt/pkgcache.bin', 'apt-cache'],
    ['/var/cache/apk/APKINDEX.tar.gz', 'apk-cache'],
    ['/root/.cache/pip/http-v2/a/b/c.body', 'pip-cache'],
    ['/home/app/.cache/pip/wheels/ab/cd/x-1.0-py3-none-any.whl', 'pip-cache'],
    ['/root/.cache/uv/archive-v0/x', 'uv-cache'],
  ])('%s is %s', (path, part) => {
    expect(leftoverPart(path)).toBe(part);
  });

  it('leaves apt configuration and its lock alone', () => {
    expect(leftoverPart('/etc/apt/sources.list')).toBeUndefined();
    expect(leftoverPart('/var/cache/apt/archives/lock')).toBeUndefined();
  });
});

describe('inputPart', () => {
  const dirs = installInputDirs([
    '/src/requirements.txt',
    '/wheels/a-1.0-py3-none-any.whl',
    '/usr/share/python-wheels/pip-23.0-py3-none-any.whl',
  ]);

  it('finds wheels anywhere but where an installed tool keeps its own', () => {
    expect(inputPart('/wheels/a-1.0-py3-none-any.whl', dirs)).toBe('wheels');
    expect(inputPart('/tmp/numpy-2.0-cp311-cp311-manylinux_2_28_x86_64.whl', dirs)).toBe('wheels');
    expect(inputPart('/usr/share/python-wheels/pip-23.0-py3-none-any.whl', dirs)).toBeUndefined();
    expect(
      inputPart('/usr/lib/python3.11/ensurepip/_bundled/pip-23.0-py3-none-any.whl', dirs),
    ).toBeUndefined();
    expect(
      inputPart(
        '/venv/lib/python3.11/site-packages/virtualenv/seed/wheels/embed/pip-24.0-py3-none-any.whl',
        dirs,
      ),
    ).toBeUndefined();
  });

  it('finds sdists next to requirements or wheels, or in a wheelhouse-like directory', () => {
    expect(inputPart('/src/mypkg-1.2.tar.gz', dirs)).toBe('sdists');
    expect(inputPart('/wheels/other-0.1.zip', dirs)).toBe('sdists');
    expect(inputPart('/opt/dist/thing-3.0.tar.gz', dirs)).toBe('sdists');
    expect(inputPart('/data/backup-2024.tar.gz', dirs)).toBeUndefined();
    expect(inputPart('/src/notes.tar.gz', dirs)).toBeUndefined();
  });
});

describe('packages and bookkeeping', () => {
  it('reads the package of a dpkg file list', () => {
    expect(dpkgListPackage('/var/lib/dpkg/info/libc6-dev:amd64.list')).toBe('libc6-dev');
    expect(dpkgListPackage('/var/lib/dpkg/info/g++-12.list')).toBe('g++-12');
    expect(dpkgListPackage('/var/lib/dpkg/info/gcc-12.md5sums')).toBeUndefined();
  });

  it.each([
    'gcc',
    'gcc-12',
    'g++-12',
    'cpp-12',
    'binutils',
    'binutils-x86-64-linux-gnu',
    'libc6-dev',
    'python3.11-dev',
    'make',
    'libasan8',
    'libisl23',
    'rustc',
  ])('%s is a toolchain package', (name) => expect(isToolchainPackage(name)).toBe(true));

  it.each([
    'gcc-12-base',
    'libgcc-s1',
    'libstdc++6',
    'libpython3.11',
    'libgomp1',
    'python3.11',
    'libexpat1',
  ])('%s is a runtime package', (name) => expect(isToolchainPackage(name)).toBe(false));

  it('treats package databases and logs as bookkeeping every install rewrites', () => {
    expect(isBookkeeping('/var/lib/dpkg/status')).toBe(true);
    expect(isBookkeeping('/var/cache/debconf/templates.dat')).toBe(true);
    expect(isBookkeeping('/var/log/apt/term.log')).toBe(true);
    expect(isBookkeeping('/etc/ld.so.cache')).toBe(true);
    expect(isBookkeeping('/usr/lib/python3/dist-packages/x.py')).toBe(false);
  });
});

describe('slimVariant', () => {
  it.each([
    ['python:3.11', 'python:3.11-slim'],
    ['python', 'python:slim'],
    ['python:3', 'python:3-slim'],
    ['python:3.11.9-bookworm', 'python:3.11.9-slim-bookworm'],
    ['python:bookworm', 'python:slim-bookworm'],
    ['python:3.13.0rc1', 'python:3.13.0rc1-slim'],
    ['docker.io/library/python:3.12', 'docker.io/library/python:3.12-slim'],
    ['debian:bookworm', 'debian:bookworm-slim'],
    ['debian:12', 'debian:12-slim'],
    ['debian:bookworm-20240110', 'debian:bookworm-20240110-slim'],
    ['debian:latest', 'debian:stable-slim'],
  ])('%s -> %s', (image, slim) => {
    expect(slimVariant(image)).toBe(slim);
  });

  it.each([
    'python:3.11-slim',
    'python:3.11-slim-bookworm',
    'python:3.11-alpine',
    'python:3.11-windowsservercore',
    'debian:bookworm-slim',
    'python:3.11@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    'ghcr.io/acme/python:3.11',
    'myorg/python:3.11',
    'ubuntu:22.04',
    'slimpy-local/python:3.11-bookworm',
  ])('%s has no -slim twin to suggest', (image) => {
    expect(slimVariant(image)).toBeUndefined();
  });
});
