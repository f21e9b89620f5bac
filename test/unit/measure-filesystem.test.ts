import { describe, expect, it } from 'vitest';
import { largestFiles, mergeLayers } from '../../src/measure/filesystem.js';
import type { FileEntry, LayerContent } from '../../src/measure/layers.js';

function file(path: string, size: number): FileEntry {
  return { path, size, type: 'file', mode: 0o644 };
}
function dir(path: string): FileEntry {
  return { path, size: 0, type: 'dir', mode: 0o755 };
}
function hardlink(path: string, target: string): FileEntry {
  return { path, size: 0, type: 'hardlink', mode: 0o644, linkTarget: target };
}
function layer(
  files: FileEntry[],
  changes: { whiteouts?: string[]; opaqueDirs?: string[] } = {},
): LayerContent {
  return {
    diffId: `sha256:${'0'.repeat(64)}`,
    tarBytes: 0,
    fromCache: false,
    exported: true,
    files,
    whiteouts: changes.whiteouts ?? [],
    opaqueDirs: changes.opaqueDirs ?? [],
    hashes: new Map(),
  };
}

const base = layer([
  dir('/usr'),
  dir('/usr/lib'),
  file('/usr/lib/libbig.so', 5000),
  dir('/app'),
  dir('/app/cache'),
  file('/app/cache/a.bin', 300),
  dir('/app/cache/sub'),
  file('/app/cache/sub/b.bin', 200),
  file('/app/main.py', 10),
]);

describe('mergeLayers', () => {
  it('lets a later layer replace an earlier file', () => {
    const merged = mergeLayers([base, layer([file('/app/main.py', 99)])]);
    expect(merged.get('/app/main.py')).toEqual({ size: 99, type: 'file', layerIndex: 1 });
  });

  it('removes a whiteout directory with its whole subtree', () => {
    const merged = mergeLayers([base, layer([], { whiteouts: ['/app/cache'] })]);
    expect([...merged.keys()].filter((p) => p.startsWith('/app'))).toEqual([
      '/app',
      '/app/main.py',
    ]);
  });

  it('hides lower content of an opaque directory but keeps what the same layer adds', () => {
    const merged = mergeLayers([
      base,
      layer([dir('/app/cache'), file('/app/cache/new.bin', 7)], { opaqueDirs: ['/app/cache'] }),
    ]);
    expect([...merged.keys()].filter((p) => p.startsWith('/app/cache'))).toEqual([
      '/app/cache',
      '/app/cache/new.bin',
    ]);
    expect(merged.get('/app/cache')?.layerIndex).toBe(1);
  });

  it('lets a file replacing a directory hide the directory subtree', () => {
    const merged = mergeLayers([base, layer([file('/app/cache', 1)])]);
    expect(merged.get('/app/cache')).toEqual({ size: 1, type: 'file', layerIndex: 1 });
    expect(merged.has('/app/cache/a.bin')).toBe(false);
  });

  it('keeps the subtree when a layer only touches a directory', () => {
    const merged = mergeLayers([base, layer([dir('/app/cache')])]);
    expect(merged.get('/app/cache/sub/b.bin')?.layerIndex).toBe(0);
    expect(merged.get('/app/cache')?.layerIndex).toBe(1);
  });

  it('brings a path back when a layer re-adds it after a deletion', () => {
    const merged = mergeLayers([
      base,
      layer([], { whiteouts: ['/app/main.py'] }),
      layer([file('/app/main.py', 3)]),
    ]);
    expect(merged.get('/app/main.py')).toEqual({ size: 3, type: 'file', layerIndex: 2 });
  });

  it('counts hardlinked data once', () => {
    const merged = mergeLayers([
      layer([
        dir('/bin'),
        file('/bin/python3.11', 4000),
        hardlink('/bin/python3', '/bin/python3.11'),
      ]),
    ]);
    const total = [...merged.values()].reduce((sum, entry) => sum + entry.size, 0);
    expect(total).toBe(4000);
    expect(merged.get('/bin/python3')?.type).toBe('hardlink');
  });

  it('moves the size to a hardlink whose target a later layer deleted', () => {
    const merged = mergeLayers([
      layer([
        dir('/bin'),
        file('/bin/python3.11', 4000),
        hardlink('/bin/python3', '/bin/python3.11'),
        hardlink('/bin/python', '/bin/python3.11'),
      ]),
      layer([], { whiteouts: ['/bin/python3.11'] }),
    ]);
    const total = [...merged.values()].reduce((sum, entry) => sum + entry.size, 0);
    expect(total).toBe(4000);
    expect(merged.has('/bin/python3.11')).toBe(false);
  });
});

describe('largestFiles', () => {
  const layers = [
    base,
    layer([dir('/app'), file('/app/model.bin', 9000), file('/app/small.txt', 5)]),
    layer([file('/app/data.parquet', 700), file('/app/model.bin', 8000)]),
    layer([], { whiteouts: ['/app/data.parquet'] }),
  ];

  it('lists the image’s own largest surviving files, biggest first', () => {
    expect(largestFiles(layers, { fromLayer: 1, limit: 10 })).toEqual([
      { path: '/app/model.bin', size: 8000, layerIndex: 2 },
      { path: '/app/small.txt', size: 5, layerIndex: 1 },
    ]);
  });

  it('includes base layers from index 0 and honours the limit', () => {
    expect(largestFiles(layers, { fromLayer: 0, limit: 2 }).map((f) => f.path)).toEqual([
      '/app/model.bin',
      '/usr/lib/libbig.so',
    ]);
  });
});
