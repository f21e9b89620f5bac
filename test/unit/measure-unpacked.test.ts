import { describe, expect, it } from 'vitest';
import { unpackedFromListEntry } from '../../src/measure/sizes.js';

// Figures from Docker 26.1.5 with the containerd image store (the example image, classic builder).
describe('unpacked size on the containerd image store', () => {
  it('is the image list size minus the content size on engines before API 1.47', () => {
    expect(unpackedFromListEntry({ Id: 'sha256:6aeb', Size: 662_321_815 }, 162_396_823)).toBe(
      499_924_992,
    );
  });

  it('is the engine’s own unpacked figure when the list reports one (API >= 1.47)', () => {
    const entry = {
      Id: 'sha256:6aeb',
      Size: 662_321_815,
      Manifests: [
        { Kind: 'attestation', ImageData: { Size: { Unpacked: 0 } } },
        { Kind: 'image', ImageData: { Size: { Unpacked: 499_924_992 } } },
      ],
    };
    expect(unpackedFromListEntry(entry, 1)).toBe(499_924_992);
  });
});
