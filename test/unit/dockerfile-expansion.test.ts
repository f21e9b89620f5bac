/**
 * Issue 18: slimpy expands variables as BuildKit does. The expected values were recorded by
 * building each case on the engine (test/integration/expansion.test.itg.ts re-runs them).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { parseDockerfile } from '../../src/dockerfile/parse.js';
import { platformArgs } from '../../src/dockerfile/platform.js';
import { computeScopes } from '../../src/dockerfile/scope.js';
import { globalArgLookup, resolveStages } from '../../src/dockerfile/stages.js';
import { processWord } from '../../src/dockerfile/variables.js';
import { EXPANSION_CASES, probeDockerfile } from '../support/expansion-cases.js';

const recorded = JSON.parse(
  readFileSync(new URL('../fixtures/expansion/recorded.json', import.meta.url), 'utf8'),
) as Record<string, string>;

/** What slimpy computes for the case's probe, as the RUN after it would see it. */
function slimpyValue(c: (typeof EXPANSION_CASES)[number]): string | undefined {
  const parsed = parseDockerfile(probeDockerfile(c));
  const buildArgs = c.buildArgs ?? {};
  const automaticArgs = platformArgs('linux/amd64');
  const stages = resolveStages(parsed, buildArgs);
  const scopes = computeScopes(parsed, stages, {
    buildArgs,
    automaticArgs,
    globals: globalArgLookup(parsed, buildArgs, automaticArgs),
  });
  const run = stages.at(-1)?.instructions.at(-1);
  if (run === undefined) throw new Error('no probe RUN');
  const scope = scopes.at(run);
  return c.kind === 'env' ? scope.buildKitLookup('SLIMPY_PROBE') : scope.workdir;
}

describe('variable expansion matches the engine', () => {
  test('every case has a recorded value', () => {
    expect(Object.keys(recorded).sort()).toEqual(EXPANSION_CASES.map((c) => c.name).sort());
  });

  test.each(EXPANSION_CASES)('$name', (c) => {
    expect(slimpyValue(c)).toBe(recorded[c.name]);
  });
});

describe('processWord', () => {
  const lookup = (name: string): string | undefined =>
    ({ SET: '/x', EMPTY: '' })[name] as string | undefined;

  test.each([
    { text: '"${SET}/a b"', value: '/x/a b', unresolved: [] },
    { text: "'$SET'", value: '$SET', unresolved: [] },
    { text: '\\$SET', value: '$SET', unresolved: [] },
    { text: '$UNSET/bin', value: '/bin', unresolved: ['UNSET'] },
    { text: '${UNSET:-${SET}}', value: '/x', unresolved: [] },
    { text: '${EMPTY:-d}${EMPTY-e}', value: 'd', unresolved: [] },
    { text: '$ 5$', value: '$ 5$', unresolved: [] },
  ])('$text', ({ text, value, unresolved }) => {
    expect(processWord(text, lookup)).toEqual({ value, unresolved });
  });
});
