/**
 * The runtime-needs probe (src/measure/runtime-needs.py) outside a container: its functions,
 * loaded into this machine's python3, over this machine's own ELF files and a hand-made apk
 * database. The engine tests run it whole in Debian images; Alpine's and RHEL's paths are only
 * checked here, since no such base can be made on the test engines.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const PROBE = fileURLToPath(new URL('../../src/measure/runtime-needs.py', import.meta.url));

/** Runs `body` with the probe loaded as `probe`; `body` prints one JSON value. */
function python(body: string): unknown {
  const program = [
    'import importlib.util, json, sys',
    `spec = importlib.util.spec_from_file_location("probe", ${JSON.stringify(PROBE)})`,
    'probe = importlib.util.module_from_spec(spec)',
    'spec.loader.exec_module(probe)',
    body,
  ].join('\n');
  return JSON.parse(execFileSync('python3', ['-c', program], { encoding: 'utf8' })) as unknown;
}

// Each test starts a python3: slow on a loaded machine.
describe('the probe, read with this machine’s python3', { timeout: 60_000 }, () => {
  it('reads an ELF file’s needs the way the loader does, and finds them', () => {
    // Node itself: a dynamically linked ELF file that is sure to be there.
    const found = python(
      [
        `elf = probe.read_elf(${JSON.stringify(process.execPath)})`,
        'loader = probe.Loader()',
        'print(json.dumps({"needed": elf.needed, "resolved": [loader.resolve(n, elf)[0] for n in elf.needed], "kind": loader.kind()}))',
      ].join('\n'),
    ) as { needed: string[]; resolved: Array<string | null>; kind: string };
    expect(found.needed.some((name) => /^libc\.so|^libc\.musl/.test(name))).toBe(true);
    expect(found.resolved.every((library) => library !== null)).toBe(true);
    expect(['glibc', 'musl']).toContain(found.kind);
  });

  it('leaves files that are not ELF alone', () => {
    expect(python(`print(json.dumps(probe.read_elf(${JSON.stringify(PROBE)})))`)).toBeNull();
  });

  it('expands $ORIGIN against the file’s own directory', () => {
    const dirs = python(
      'elf = probe.Elf("/venv/lib/x/_ext.so", 2, 62, [], [], ["$ORIGIN/../x.libs"])\nprint(json.dumps(probe.Loader().origin_dirs(elf.runpath, elf)))',
    ) as string[];
    expect(dirs).toContain('/venv/lib/x/../x.libs');
  });

  it('apk: names without versions, world entries without constraints, virtual packages and files', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'slimpy-apk-'));
    const database = path.join(dir, 'installed');
    writeFileSync(
      database,
      [
        'P:libpq',
        'V:16.3-r0',
        'F:usr/lib',
        'R:libpq.so.5',
        '',
        'P:.build-deps',
        'V:20240101.000000',
        'D:gcc musl-dev postgresql16-dev>=16',
        '',
      ].join('\n'),
    );
    const answer = python(
      [
        `db = ${JSON.stringify(database)}`,
        'print(json.dumps({',
        '  "files": [list(pair) for pair in probe.apk_database(db) if pair[1]],',
        '  "virtuals": probe.virtuals("apk", db),',
        '  "names": [probe.apk_name("libpq-16.3-r0"), probe.apk_name("py3-psycopg2-2.9.9-r1")],',
        '  "words": [probe.apk_word("libpq>=16"), probe.apk_word("so:libc.musl-x86_64.so.1")],',
        '}))',
      ].join('\n'),
    );
    expect(answer).toEqual({
      files: [['libpq', '/usr/lib/libpq.so.5']],
      virtuals: [{ name: '.build-deps', depends: ['gcc', 'musl-dev', 'postgresql16-dev'] }],
      names: ['libpq', 'py3-psycopg2'],
      words: ['libpq', 'so:libc.musl-x86_64.so.1'],
    });
  });

  it('a file is owned under any of its names across the /usr merge', () => {
    const owned = python(
      'print(json.dumps([probe.is_owned("/usr/lib/x86_64-linux-gnu/libpq.so.5", {"/lib/x86_64-linux-gnu/libpq.so.5"}), probe.is_owned("/venv/bin/python", {"/usr/bin/python3"})]))',
    );
    expect(owned).toEqual([true, false]);
  });
});
