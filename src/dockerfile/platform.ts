/** The platform a build is for, and the ARGs BuildKit defines from it. */

/** The ARGs BuildKit defines for a build on `platform` (`linux/amd64`, `linux/arm64/v8`). */
export function platformArgs(platform: string): Record<string, string> {
  const [os = 'linux', arch = 'amd64', variant = ''] = platform.split('/');
  const values: Record<string, string> = {};
  for (const side of ['TARGET', 'BUILD']) {
    values[`${side}PLATFORM`] = platform;
    values[`${side}OS`] = os;
    values[`${side}ARCH`] = arch;
    values[`${side}VARIANT`] = variant;
  }
  return values;
}

/** The platform of the machine slimpy runs on, which is the one a local engine builds for. */
export function hostPlatform(): string {
  const arch = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' }[
    process.arch as string
  ];
  return `linux/${arch ?? process.arch}`;
}
