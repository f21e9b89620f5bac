/**
 * The findings in the user's words: what each is (title) and what to change (fix), from the facts
 * the measurement found (src/measure/findings.ts).
 */
import { lineList } from '../dockerfile/context.js';
import type { Finding, FindingFacts } from '../model/report.js';
import { formatBytes } from './format.js';

export function wordFindings(facts: readonly FindingFacts[]): Finding[] {
  return facts.map((finding) => ({ ...finding, title: titleOf(finding), fix: fixOf(finding) }));
}

const TOOLCHAIN_WORDS: Record<string, string> = {
  compiler: 'C/C++ compiler',
  binutils: 'binutils',
  headers: 'headers',
  'static-libs': 'static libraries',
  'build-tools': 'make/CMake',
  rust: 'Rust toolchain',
  go: 'Go toolchain',
};

const LEFTOVER_WORDS: Record<string, { what: string; fix: string }> = {
  'apt-lists': { what: 'apt package lists', fix: '`rm -rf /var/lib/apt/lists/*`' },
  'apt-cache': { what: "apt's package cache", fix: '`apt-get clean`' },
  'apk-cache': { what: 'apk cache', fix: '`apk add --no-cache`' },
  'dnf-cache': { what: 'dnf/yum cache', fix: '`dnf clean all`' },
  'pip-cache': {
    what: 'pip cache',
    fix: '`pip install --no-cache-dir` (or `RUN --mount=type=cache,target=/root/.cache/pip`)',
  },
  'uv-cache': {
    what: 'uv cache',
    fix: '`uv … --no-cache` (or a cache mount on `/root/.cache/uv`)',
  },
  'poetry-cache': { what: 'Poetry cache', fix: '`rm -rf ~/.cache/pypoetry` (or a cache mount)' },
};

function titleOf(finding: FindingFacts): string {
  switch (finding.kind) {
    case 'build-toolchain':
      return `Build toolchain in the final image: ${toolchainNames(finding)}`;
    case 'package-leftovers':
      return `Package manager leftovers: ${leftoverParts(finding)
        .map((part) => LEFTOVER_WORDS[part]?.what ?? part)
        .join(', ')}`;
    case 'install-inputs':
      return `Install inputs left in the image: ${inputCounts(finding)}`;
    case 'layer-waste':
      return finding.layer < 0
        ? `Base image files deleted or overwritten by later layers, still shipped: ${plural(finding.files, 'file')}`
        : `Deleted or overwritten by a later layer, still shipped: ${plural(finding.files, 'file')}`;
    case 'duplicate-files':
      return `Duplicate content: ${plural(finding.files, 'file')} whose content the image already has (the biggest, \`${finding.duplicate?.path ?? ''}\`, repeats \`${finding.duplicate?.original ?? '?'}\`)`;
    case 'base-image': {
      const base = finding.base;
      return `Base image \`${base?.image ?? ''}\`: ${formatBytes(base?.baseBytes ?? finding.bytes)} of the image's ${formatBytes(base?.totalBytes ?? 0)} (your layers: ${formatBytes((base?.totalBytes ?? 0) - (base?.baseBytes ?? 0))})`;
    }
  }
}

function leftoverParts(finding: FindingFacts): string[] {
  return finding.parts.filter((part) => part in LEFTOVER_WORDS);
}

function toolchainNames(finding: FindingFacts): string {
  const names = finding.packages ?? [];
  if (names.length === 0) {
    return finding.parts
      .filter((part) => part !== 'docs')
      .map((part) => TOOLCHAIN_WORDS[part] ?? part)
      .join(', ');
  }
  const shown = names
    .slice(0, 4)
    .map((name) => `\`${name}\``)
    .join(', ');
  return names.length > 4 ? `${shown} and ${names.length - 4} more packages` : shown;
}

function inputCounts(finding: FindingFacts): string {
  const { wheels, sdists } = finding.inputs ?? { wheels: 0, sdists: finding.files };
  return [wheels > 0 ? plural(wheels, 'wheel') : '', sdists > 0 ? plural(sdists, 'sdist') : '']
    .filter(Boolean)
    .join(', ');
}

function fixOf(finding: FindingFacts): string {
  const copied = finding.keyword === 'COPY' || finding.keyword === 'ADD';
  const later = laterLines(finding);
  const tooLate = finding.hidden
    ? `; removing them in a later layer${later} does not help, they still ship in this layer`
    : '';
  switch (finding.kind) {
    case 'build-toolchain':
      return copied
        ? `Copy only the build's result into the final stage, not the toolchain${tooLate}.`
        : `Move this ${finding.keyword ?? 'step'} to a builder stage (\`FROM … AS build\`), build the wheels or the virtual environment there, and \`COPY --from=build\` only the result${tooLate}.`;
    case 'package-leftovers': {
      if (copied)
        return `Keep caches out of the build context (\`.dockerignore\`) instead of copying them in${tooLate}.`;
      const fixes = leftoverParts(finding).map((part) => LEFTOVER_WORDS[part]?.fix ?? part);
      return `Clean up in the same RUN that creates them: ${fixes.join(', ')}${tooLate}.`;
    }
    case 'install-inputs':
      return copied
        ? `Mount the packages for the install instead of copying them in (\`RUN --mount=type=bind,source=wheels,target=/wheels pip install …\`), or install in a builder stage and copy the environment${tooLate}.`
        : `Delete them at the end of this RUN once installed (\`&& rm -rf …\`), or download them in a builder stage${tooLate}.`;
    case 'layer-waste':
      return finding.layer < 0
        ? `Deleting or replacing the base image's files in a later layer${later} does not shrink the image: drop that step or choose a smaller base image.`
        : `Create, change and delete these files in one RUN (or in a builder stage): a later layer${later} hides them, but their bytes stay in this layer.`;
    case 'duplicate-files':
      return copied
        ? 'Copy each file once: deduplicate in the stage you copy from (e.g. `ln -sf` the copies to the original) or narrow the COPY sources.'
        : 'Keep one copy: replace the others with links (`ln -sf`) in the same RUN that creates them.';
    case 'base-image':
      return baseImageFix(finding);
  }
}

function baseImageFix(finding: FindingFacts): string {
  const base = finding.base;
  const known =
    base?.slimVariantSize === undefined
      ? ''
      : ` (${formatBytes(base.slimVariantSize)} on this engine)`;
  const viaArg = base?.viaArg ? ', set through the build arg your FROM line uses,' : '';
  return `\`${base?.slimVariant ?? ''}\`${known}${viaArg} would do when the app needs none of the full image's extra packages (compilers, headers, tools): build in the full image if you must, and run on the slim one.`;
}

/** ` (line 9)`, ` (lines 9 and 12)`: the lines of the layers hiding these bytes, when all are known. */
function laterLines(finding: FindingFacts): string {
  const lines = finding.hiddenByLines ?? [];
  return lines.length === 0 ? '' : ` (${lineList(lines)})`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
