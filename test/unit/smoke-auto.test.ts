import { describe, expect, it } from 'vitest';
import {
  AUTO_SMOKE_PROGRAM,
  autoSmokeCommand,
  skippedOptionalModules,
  skippedProbes,
} from '../../src/smoke/auto.js';

describe('autoSmokeCommand', () => {
  it('tries the shell first, then python3 and python directly', () => {
    const { attempts } = autoSmokeCommand();
    expect(attempts.map((argv) => argv[0])).toEqual(['/bin/sh', 'python3', 'python']);
    expect(attempts[0]?.slice(-2)).toEqual(['slimpy-smoke', AUTO_SMOKE_PROGRAM]);
    expect(attempts[1]).toEqual(['python3', '-c', AUTO_SMOKE_PROGRAM]);
  });

  it('passes the allowed missing modules to the slimmed image, even when there are none', () => {
    for (const argv of autoSmokeCommand({ allowMissing: ['a', 'b'] }).attempts) {
      expect(argv.at(-1)).toBe('--allow-missing=a,b');
    }
    expect(autoSmokeCommand({ allowMissing: [] }).attempts[2]?.at(-1)).toBe('--allow-missing=');
  });
});

describe('probes', () => {
  it('pass the probes as JSON, and for the slimmed image the ones allowed to fail', () => {
    const probes = [{ name: 'lazy-stubs:skimage', code: 'import skimage' }];
    const [argv] = autoSmokeCommand({
      allowMissing: [],
      probes,
      allowFailingProbes: ['x'],
    }).attempts;
    expect(argv?.slice(-3)).toEqual([
      '--allow-missing=',
      `--probes=${JSON.stringify(probes)}`,
      '--allow-failing-probes=x',
    ]);
    expect(autoSmokeCommand({ probes: [] }).attempts[1]).toEqual([
      'python3',
      '-c',
      AUTO_SMOKE_PROGRAM,
    ]);
  });

  it('reads which probes failed in the original image', () => {
    const output = [
      'ok probe lazy-stubs:skimage 12ms',
      "skip probe torch-inductor: ModuleNotFoundError: No module named 'torch'",
      'slimpy: skipped 1 probes that fail in this image: torch-inductor',
    ].join('\n');
    expect(skippedProbes(output)).toEqual(['torch-inductor']);
    expect(skippedProbes('ok probe a 1ms')).toEqual([]);
  });
});

describe('skippedOptionalModules', () => {
  it('reads the summary line', () => {
    const output = [
      'skip adbc_driver_duckdb: needs adbc_driver_manager, which is not installed',
      'ok duckdb 52ms',
      'slimpy: skipped 2 modules whose optional dependencies are not installed: adbc_driver_duckdb,x.y',
      'slimpy: imported 4 modules from 4 distributions in 192ms',
    ].join('\n');
    expect(skippedOptionalModules(output)).toEqual(['adbc_driver_duckdb', 'x.y']);
  });

  it('is empty without one', () => {
    expect(skippedOptionalModules('ok numpy 80ms\nslimpy: imported 1 modules')).toEqual([]);
  });
});
