import { describe, expect, it } from 'vitest';
import { unpackedFromListEntry } from '../../src/measure/sizes.js';

// Figures read off Docker 26.1.5 with the containerd image store, for the local base image
// (debootstrap bookworm + python3): the image list said 231,518,266 bytes, image inspect 59,367,482
// (the content store's blobs). The expected unpacked figure was measured apart from both, as the disk
// usage of the image's one snapshot directory: `du -s -B1 …/snapshots/1/fs` = 172,150,784.
describe('unpacked size on the containerd image store', () => {
  it("is the snapshots' disk usage, from the list and content sizes on engines before API 1.47", () => {
    expect(unpackedFromListEntry({ Id: 'sha256:f625', Size: 231_518_266 }, 59_367_482)).toBe(
      172_150_784,
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
