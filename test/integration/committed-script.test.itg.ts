/**
 * The prune script a team commits (src/slim/committed-script.ts) against prune.sh, the one
 * slimpy's own builds run: over copies of the same environments, both must leave the same files
 * with the same sizes. The environments: a virtual environment with pip, setuptools (their RECORD
 * removal, `../../../bin/pip` included) and prometheus_client, and make-env.sh's synthetic one
 * (a file per rule and per exception, names with quotes, spaces and newlines, a real ELF twice
 * and a broken one). A rule added to prune.sh without its snippet in the committed script fails
 * here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRUNE_CATEGORIES, type PruneCategory } from '../../src/model/categories.js';
import { committedPruneScript } from '../../src/slim/committed-script.js';
import { loadPruneScript } from '../../src/slim/script.js';
import { engineMissing, testDocker } from '../support/engine.js';
import {
  buildPruneTestImage,
  PRUNE_FIXTURES,
  runInContainer,
  type ContainerRun,
} from '../support/prune-container.js';

const SITE = '/app/.venv/lib/python3.11/site-packages';

/** Makes /w/env (synthetic) and /w/venv (a small real venv); `list` prints a tree's entries. */
const SETUP = `set -eu
mkdir -p /tmp/out /w/venv/lib/python3.11/site-packages
elf=$(find /app/.venv -name '*.so*' -type f -size +100k | head -n 1)
sh /slimpy-test/make-env.sh /w/env --venv --elf "$elf"
cp "$elf" /w/env/lib/python3.11/site-packages/pkg/libtwin.so # a duplicate --dedupe links
cp /app/.venv/pyvenv.cfg /w/venv/ && cp -a /app/.venv/bin /w/venv/bin
cd ${SITE} && cp -a pip pip-*.dist-info setuptools setuptools-*.dist-info pkg_resources \\
  _distutils_hack distutils-precedence.pth prometheus_client prometheus_client-*.dist-info \\
  /w/venv/lib/python3.11/site-packages/
list() { (cd "$1" && find . -printf '%y %s %n %p\\n' | LC_ALL=C sort); }
set +e
`;

interface Variant {
  name: string;
  strip: boolean;
  prune: PruneCategory[];
  keep: string[];
  /** `--dedupe` (the `duplicates` fix) to both scripts. */
  dedupe?: boolean;
}

const VARIANTS: Variant[] = [
  { name: 'every rule', strip: true, prune: [...PRUNE_CATEGORIES], keep: [] },
  {
    name: 'keep globs',
    strip: true,
    prune: [...PRUNE_CATEGORIES],
    keep: ['*/keepme/*', '*/pkg/tests/data/*', `*/q"uote's*`, '*/prometheus_client/*'],
  },
  { name: 'two categories, no strip', strip: false, prune: ['pycache', 'tests'], keep: [] },
  {
    name: 'every rule, duplicates linked',
    strip: true,
    prune: [...PRUNE_CATEGORIES],
    keep: [],
    dedupe: true,
  },
];

function pruneArgs(variant: Variant): string {
  const quote = (word: string): string => `'${word.replaceAll("'", `'\\''`)}'`;
  return [
    ...(variant.strip ? [] : ['--no-strip']),
    '--prune',
    variant.prune.join(','),
    ...variant.keep.flatMap((glob) => ['--keep', quote(glob)]),
    ...(variant.dedupe ? ['--dedupe'] : []),
  ].join(' ');
}

/** For each variant: copies of both environments, prune.sh over a-*, the committed script over b-*. */
function variantRun(variant: Variant, index: number): string {
  const v = `/w/${index}`;
  return `
mkdir -p ${v} /tmp/out/${index}
for d in env venv; do cp -a /w/$d ${v}/a-$d && cp -a /w/$d ${v}/b-$d; done
sh /slimpy/prune.sh ${pruneArgs(variant)} ${v}/a-env ${v}/a-venv >/tmp/out/${index}/prune.out 2>&1
sh /slimpy/committed-${index}.sh ${variant.dedupe ? '--dedupe ' : ''}${v}/b-env ${v}/b-venv >/tmp/out/${index}/committed.out 2>&1
echo $? >/tmp/out/${index}/rc
for d in env venv; do
  list /w/$d >/tmp/out/${index}/$d.before; list ${v}/a-$d >/tmp/out/${index}/$d.a; list ${v}/b-$d >/tmp/out/${index}/$d.b
done`;
}

describe.skipIf(engineMissing() !== '')('the committed prune script', () => {
  const image = `slimpy-test/prune:committed-${process.pid}`;
  let run: ContainerRun;

  // One container for every variant: the environments are made once.
  beforeAll(async () => {
    await buildPruneTestImage(testDocker(), image);
    const scripts = VARIANTS.map((variant, index) => ({
      name: `slimpy/committed-${index}.sh`,
      content: committedPruneScript({ ...variant, shipsWholeFilesystem: false }) ?? '',
    }));
    run = await runInContainer(image, SETUP + VARIANTS.map(variantRun).join('\n'), [
      // As slimpy's builds run it: with the package exceptions written in.
      { name: 'slimpy/prune.sh', content: loadPruneScript() },
      { name: 'slimpy-test/make-env.sh', path: `${PRUNE_FIXTURES}make-env.sh` },
      ...scripts,
    ]);
  });

  afterAll(async () => {
    await testDocker()
      .getImage(image)
      .remove({ force: true })
      .catch(() => undefined);
  });

  it.each(VARIANTS.map((variant, index) => ({ ...variant, index })))(
    'leaves the files prune.sh leaves: $name',
    ({ index }) => {
      const file = (name: string): string => {
        const text = run.files.get(`${index}/${name}`);
        if (text === undefined)
          throw new Error(`no ${index}/${name}; the container said:\n${run.logs}`);
        return text;
      };
      expect(file('rc').trim(), file('committed.out')).toBe('0');
      expect(file('committed.out')).toBe('');
      for (const env of ['env', 'venv']) {
        const before = file(`${env}.before`).split('\n');
        const byPrune = file(`${env}.a`).split('\n');
        // The rules did something here, so agreeing means something.
        expect(byPrune.length, env).toBeLessThan(before.length);
        expect(file(`${env}.b`).split('\n'), env).toEqual(byPrune);
      }
      // With --dedupe the twins are one file with two links; without, two files.
      const links = VARIANTS[index]?.dedupe ? '2' : '1';
      expect(file('env.b')).toMatch(
        new RegExp(`^f \\d+ ${links} \\./lib/python3\\.11/site-packages/pkg/libtwin\\.so$`, 'm'),
      );
    },
  );
});
