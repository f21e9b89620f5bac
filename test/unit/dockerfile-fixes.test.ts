import { describe, expect, test } from 'vitest';
import { FIX_PLANNERS } from '../../src/dockerfile/fixes/index.js';
import { planSlim, type PlanOptions, type SlimPlan } from '../../src/dockerfile/plan.js';
import { FIX_RULES, type FixRule, type LayerFacts } from '../../src/model/fixes.js';
import type { Finding } from '../../src/model/report.js';

/** Facts of one layer, made by the instruction at `line`. */
function layerFacts(line: number, more: Partial<LayerFacts> = {}): LayerFacts {
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

const APT_LISTS = { kind: 'apt-lists', dir: '/var/lib/apt/lists', files: 40, bytes: 45e6 } as const;
const APT_CACHE = { kind: 'apt-cache', dir: '/var/cache/apt', files: 20, bytes: 30e6 } as const;
const PIP_CACHE = { kind: 'pip-cache', dir: '/root/.cache/pip', files: 9, bytes: 60e6 } as const;

function plan(
  text: string,
  layers: LayerFacts[],
  options: Partial<PlanOptions> & { rules?: FixRule[]; findings?: Finding[] } = {},
): SlimPlan {
  return planSlim(text, {
    buildKit: true,
    scriptPath: '.slimpy/prune.sh',
    scriptArgs: ['--prune', 'all'],
    fixes: {
      rules: options.rules ?? [...FIX_RULES],
      findings: options.findings ?? [],
      facts: { layers },
    },
    ...options,
  });
}

describe('the fix-rule framework', () => {
  test('every fix rule a user can name has a planner', () => {
    expect(Object.keys(FIX_PLANNERS).sort()).toEqual([...FIX_RULES].sort());
  });

  test('with no rules chosen, nothing changes and no rule is reported', () => {
    const text = 'FROM debian\nRUN apt-get update && apt-get install -y curl\n';
    const result = plan(text, [layerFacts(2, { leftovers: [APT_LISTS] })], { rules: [] });
    expect(result.text).toBe(text);
    expect(result.fixes).toEqual([]);
    expect(result.strategy).toBe('none');
  });

  test('a Dockerfile that only a fix changes gets the `fixes` strategy and no prune script', () => {
    const text = 'FROM python:3.11-slim\nRUN apt-get update && apt-get install -y curl\n';
    const result = plan(text, [layerFacts(2, { leftovers: [APT_LISTS] })]);
    expect(result.strategy).toBe('fixes');
    expect(result.usesPruneScript).toBe(false);
    expect(result.fixes).toEqual([{ rule: 'leftovers', lines: [2] }]);
  });
});

describe('leftovers', () => {
  test('apt lists and cache are removed at the end of the RUN that writes them', () => {
    const text = [
      'FROM python:3.11-slim',
      'RUN apt-get update \\',
      '    && apt-get install -y --no-install-recommends curl',
      'COPY app.py /app/',
      '',
    ].join('\n');
    const result = plan(text, [layerFacts(2, { leftovers: [APT_LISTS, APT_CACHE] })]);
    expect(result.text).toBe(
      [
        'FROM python:3.11-slim',
        'RUN apt-get update \\',
        '    && apt-get install -y --no-install-recommends curl && apt-get clean && rm -rf /var/lib/apt/lists/*',
        'COPY app.py /app/',
        '',
      ].join('\n'),
    );
    expect(result.notes).toContain(
      "Removed apt package lists and apt's package cache at the end of the RUN at line 2, which writes them: deleted by a later RUN they would still ship in this one's layer.",
    );
  });

  test("pip's cache goes after the prune the same RUN already runs, joined with && even after a `;`", () => {
    const text = 'FROM python:3.11-slim\nRUN pip install numpy;\n';
    const result = plan(text, [layerFacts(2, { leftovers: [PIP_CACHE] })]);
    expect(result.sameRun).toEqual([{ line: 2 }]);
    expect(result.text).toBe(
      'FROM python:3.11-slim\nRUN --mount=type=bind,source=.slimpy/prune.sh,target=/tmp/slimpy-prune.sh pip install numpy; sh /tmp/slimpy-prune.sh --prune all && rm -rf /root/.cache/pip\n',
    );
  });

  test('a RUN that already cleans up has no leftovers in its layer and is left alone', () => {
    const text =
      'FROM python:3.11-slim\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n';
    const result = plan(text, [layerFacts(2)]);
    expect(result.text).toBe(text);
    expect(result.fixes).toEqual([]);
  });

  test('lists a later RUN installs from stay, with the reason', () => {
    const text = [
      'FROM python:3.11-slim',
      'RUN apt-get update',
      'RUN apt-get install -y curl',
      '',
    ].join('\n');
    const result = plan(text, [layerFacts(2, { leftovers: [APT_LISTS] })]);
    expect(result.text).toBe(text);
    expect(result.skipped).toContain(
      'The RUN at line 2 leaves apt package lists in the image, but a later RUN installs from them without refreshing them; run both in one RUN to have them removed.',
    );
  });

  test('a later RUN that refreshes the lists itself does not need them', () => {
    const text = [
      'FROM python:3.11-slim',
      'RUN apt-get update && apt-get install -y curl',
      'RUN apt-get update && apt-get install -y git',
      '',
    ].join('\n');
    const result = plan(text, [
      layerFacts(2, { leftovers: [APT_LISTS] }),
      layerFacts(3, { leftovers: [APT_LISTS] }),
    ]);
    expect(result.fixes).toEqual([{ rule: 'leftovers', lines: [2, 3] }]);
  });

  test('a bare here-document script gets the cleanup as its last line', () => {
    const text = [
      '# syntax=docker/dockerfile:1',
      'FROM python:3.11-slim',
      'RUN <<EOF',
      'apt-get update',
      'apt-get install -y curl',
      'EOF',
      '',
    ].join('\n');
    const result = plan(text, [layerFacts(3, { leftovers: [APT_LISTS] })]);
    expect(result.text).toContain('apt-get install -y curl\nrm -rf /var/lib/apt/lists/*\nEOF\n');
  });

  test('exec form and a non-POSIX SHELL are left alone, with the reason', () => {
    const text = [
      'FROM python:3.11-slim',
      'RUN ["apt-get", "update"]',
      'SHELL ["pwsh", "-c"]',
      'RUN apt-get update',
      '',
    ].join('\n');
    const result = plan(text, [
      layerFacts(2, { leftovers: [APT_LISTS] }),
      layerFacts(4, { leftovers: [APT_LISTS] }),
    ]);
    expect(result.text).toBe(text);
    expect(result.skipped).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^The RUN at line 2 leaves apt package lists in the image, but it is in exec form/,
        ),
        expect.stringMatching(
          /^The RUN at line 4 leaves apt package lists in the image, but a SHELL instruction/,
        ),
      ]),
    );
  });

  test('only the stages that ship are changed', () => {
    const text = [
      'FROM python:3.11-slim AS build',
      'RUN apt-get update && apt-get install -y gcc',
      'FROM python:3.11-slim',
      'RUN apt-get update && apt-get install -y curl',
      '',
    ].join('\n');
    // Facts come from the built image: the builder's RUN has no layer in it.
    const result = plan(text, [layerFacts(4, { leftovers: [APT_LISTS] })]);
    expect(result.fixes).toEqual([{ rule: 'leftovers', lines: [4] }]);
    expect(result.text.split('\n')[1]).toBe('RUN apt-get update && apt-get install -y gcc');
  });
});

describe('toolchain', () => {
  test('is registered and plans nothing yet', () => {
    const text = 'FROM python:3.11-slim\nRUN apt-get update && apt-get install -y gcc\n';
    const result = plan(text, [layerFacts(2)], { rules: ['toolchain'] });
    expect(result.text).toBe(text);
    expect(result.fixes).toEqual([]);
  });
});
