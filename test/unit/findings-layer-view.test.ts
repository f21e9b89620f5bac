import { describe, expect, it } from 'vitest';
import { viewLayers } from '../../src/measure/findings/layer-view.js';
import { dir, file, hardlink, layer, symlink } from '../fixtures/findings/layers.js';

function hidden(
  layers: Parameters<typeof viewLayers>[0],
): Array<Array<[string, number | undefined]>> {
  return viewLayers(layers).files.map((files) => files.map((f) => [f.path, f.hiddenBy]));
}

describe('viewLayers: which copies a later layer hides', () => {
  it('a file overwritten twice: each hidden copy once, hidden by the nearest later layer', () => {
    const layers = [layer([file('/a', 10)]), layer([file('/a', 20)]), layer([file('/a', 30)])];
    expect(hidden(layers)).toEqual([[['/a', 1]], [['/a', 2]], [['/a', undefined]]]);
  });

  it('a directory deleted with everything under it: each file under it once', () => {
    const layers = [
      layer([dir('/d'), file('/d/x', 5), dir('/d/y'), file('/d/y/z', 7), file('/dx', 3)]),
      layer([], { whiteouts: ['/d'] }),
    ];
    expect(hidden(layers)[0]).toEqual([
      ['/d/x', 1],
      ['/d/y/z', 1],
      ['/dx', undefined],
    ]);
  });

  it('a path deleted and written again: the old copy stays hidden', () => {
    const layers = [
      layer([file('/a', 10)]),
      layer([], { whiteouts: ['/a'] }),
      layer([file('/a', 4)]),
    ];
    expect(hidden(layers)).toEqual([[['/a', 1]], [], [['/a', undefined]]]);
  });

  it('an opaque directory hides the lower content under it, not its own', () => {
    const layers = [
      layer([file('/d/old', 10)]),
      layer([dir('/d'), file('/d/new', 4)], { opaqueDirs: ['/d'] }),
    ];
    expect(hidden(layers)).toEqual([[['/d/old', 1]], [['/d/new', undefined]]]);
  });

  it('a directory replaced by a symlink hides its subtree; a directory entry over a directory hides nothing', () => {
    const replaced = [layer([file('/d/x', 10)]), layer([symlink('/d', '/elsewhere')])];
    expect(hidden(replaced)[0]).toEqual([['/d/x', 1]]);
    const touched = [layer([file('/d/x', 10)]), layer([dir('/d')])];
    expect(hidden(touched)[0]).toEqual([['/d/x', undefined]]);
  });

  it('hardlinked data is one file, hidden only when every name is', () => {
    const layers = [
      layer([file('/a', 10), hardlink('/b', '/a')]),
      layer([], { whiteouts: ['/a'] }),
      layer([], { whiteouts: ['/b'] }),
    ];
    const view = viewLayers(layers);
    expect(view.files[0]).toEqual([{ path: '/a', size: 10, hiddenBy: 2, aliases: ['/b'] }]);
    expect(view.fileBytes[0]).toBe(10);
    expect(viewLayers(layers.slice(0, 2)).files[0]?.[0]?.hiddenBy).toBeUndefined();
  });

  it('a path repeated in one tar counts once, as its last entry', () => {
    const view = viewLayers([layer([file('/a', 5), file('/a', 7)])]);
    expect(view.files[0]).toEqual([{ path: '/a', size: 7 }]);
    expect(view.fileBytes).toEqual([7]);
  });

  it('a layer that deletes and recreates a path hides only the lower copy', () => {
    const layers = [layer([file('/x', 9)]), layer([file('/x', 2)], { whiteouts: ['/x'] })];
    expect(hidden(layers)).toEqual([[['/x', 1]], [['/x', undefined]]]);
  });
});
