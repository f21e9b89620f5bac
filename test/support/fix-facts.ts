/** Fix-rule facts for unit tests: one layer's facts, made by the instruction at `line`. */
import type { LayerFacts } from '../../src/model/fixes.js';

export function layerFacts(line: number, more: Partial<LayerFacts> = {}): LayerFacts {
  return {
    index: line,
    line,
    bytes: 0,
    leftovers: [],
    copied: [],
    occupied: [],
    environments: [],
    ...more,
  };
}
