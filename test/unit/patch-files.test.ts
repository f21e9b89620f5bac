/**
 * The patch as a team would commit it (src/pipeline/files.ts): relative to the repository, the
 * builder the original needs, the generated script, `.dockerignore` kept from leaving it out.
 * That it applies and builds is proven on real builds in test/integration/patch.test.itg.ts.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { planSlim, type FixOptions } from '../../src/dockerfile/plan.js';
import { readSettings } from '../../src/inputs.js';
import { PRUNE_CATEGORIES, type PruneCategory } from '../../src/model/categories.js';
import type { Finding } from '../../src/model/report.js';
import { repositoryRoot, writeSlimmedFiles } from '../../src/pipeline/files.js';
import { layerFacts } from '../support/fix-facts.js';

const DOCKERFILE = [
  'FROM python:3.11-slim AS builder',
  'RUN python -m venv /opt/venv && /opt/venv/bin/pip install requests',
  'FROM python:3.11-slim',
  'COPY --from=builder /opt/venv /opt/venv',
  '',
].join('\n');

const script = { strip: true, prune: ['tests', 'pycache'] as const, keep: [] };

function project(files: Record<string, string>, gitRoot?: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'slimpy-files-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  if (gitRoot !== undefined) execFileSync('git', ['init', '-q', path.join(dir, gitRoot)]);
  return dir;
}

/** Settings for a project in `dir` whose context is `context` (relative to `dir`). */
function settingsIn(dir: string, context: string, workspace: string) {
  return readSettings((name) => (name === 'context' ? path.join(dir, context) : ''), {
    workspace,
    outputDir: path.join(dir, 'out'),
    cacheDir: path.join(dir, 'cache'),
    runId: 'r',
  });
}

async function patchFor(dir: string, context: string, workspace = process.cwd()) {
  const settings = settingsIn(dir, context, workspace);
  const written = await writeSlimmedFiles(settings, DOCKERFILE, {
    ...script,
    prune: [...script.prune],
  });
  return { ...written, settings };
}

const touched = (patch: string): string[] =>
  [...patch.matchAll(/^diff --git a\/(\S+) b\//gm)].map((m) => m[1]!);

describe('the committed patch', () => {
  it('names files from the root of the git repository holding the Dockerfile', async () => {
    const dir = project({ 'repo/services/api/Dockerfile': DOCKERFILE }, 'repo');
    const { patch } = await patchFor(dir, 'repo/services/api');
    expect(touched(patch)).toEqual(['services/api/Dockerfile', 'services/api/.slimpy/prune.sh']);
    execFileSync('git', ['apply', '--check', '-'], { cwd: path.join(dir, 'repo'), input: patch });
  });

  it('outside any repository and workspace: relative to the context, never a//tmp/…', async () => {
    const dir = project({ 'ctx/Dockerfile': DOCKERFILE });
    const { patch, settings } = await patchFor(dir, 'ctx');
    expect(repositoryRoot(settings)).toBe(path.join(dir, 'ctx'));
    expect(touched(patch)).toEqual(['Dockerfile', '.slimpy/prune.sh']);
    expect(patch).not.toMatch(/^(?:---|\+\+\+) [ab]\/\//m);
  });

  it('brings the script in with COPY, so the classic builder takes it', async () => {
    const dir = project({ 'ctx/Dockerfile': DOCKERFILE });
    const { files } = await patchFor(dir, 'ctx');
    const patched = readFileSync(files.dockerfile, 'utf8');
    expect(patched).toContain('COPY .slimpy/prune.sh /tmp/slimpy-prune.sh');
    expect(patched).not.toContain('--mount');
  });

  it('adds a generated script under 100 lines that takes no options, only roots', async () => {
    const dir = project({ 'ctx/Dockerfile': DOCKERFILE });
    const { patch, files } = await patchFor(dir, 'ctx');
    const added = patch.split(/^diff --git /m).find((part) => part.includes('new file mode'))!;
    const lines = added.split('\n').filter((l) => l.startsWith('+') && !l.startsWith('+++'));
    expect(lines.length).toBeLessThanOrEqual(100);
    expect(lines[0]).toBe('+#!/bin/sh');
    expect(readFileSync(files.dockerfile, 'utf8')).toContain('sh /tmp/slimpy-prune.sh /opt/venv');
  });

  it('gives the script an exception in a .dockerignore that would leave it out', async () => {
    const dir = project({ 'ctx/Dockerfile': DOCKERFILE, 'ctx/.dockerignore': '*\n!app\n' });
    const { patch } = await patchFor(dir, 'ctx');
    expect(touched(patch)).toContain('.dockerignore');
    expect(patch).toMatch(/^\+!\.slimpy\/prune\.sh$/m);
    const kept = project({ 'ctx/Dockerfile': DOCKERFILE, 'ctx/.dockerignore': 'tests/\n' });
    expect(touched((await patchFor(kept, 'ctx')).patch)).not.toContain('.dockerignore');
  });

  describe('with fix rules', () => {
    // One stage: apt without cleanup, a venv created by one RUN and filled by a later one.
    const SINGLE = [
      'FROM python:3.11-slim',
      'RUN apt-get update && apt-get install -y --no-install-recommends curl',
      'RUN python3 -m venv /app/.venv',
      'RUN /app/.venv/bin/pip install numpy',
      '',
    ].join('\n');
    const fixes = (rules: FixOptions['rules']): FixOptions => ({
      rules,
      findings: [],
      facts: {
        layers: [
          layerFacts(2, {
            leftovers: [{ kind: 'apt-lists', dir: '/var/lib/apt/lists', files: 40, bytes: 45e6 }],
          }),
          layerFacts(3, {
            environments: [
              {
                sitePackages: '/app/.venv/lib/python3.11/site-packages',
                venv: true,
                bytes: 25e6,
                packagingBytes: 12e6,
              },
            ],
          }),
        ],
      },
    });
    const duplicateFinding = {
      kind: 'duplicate-files',
      severity: 'info',
      title: 'identical files',
      bytes: 2e6,
      line: 4,
      paths: ['/app/.venv/lib/python3.11/site-packages/numpy.libs/libgfortran.so'],
      duplicate: {
        path: '/app/.venv/lib/python3.11/site-packages/numpy.libs/libgfortran.so',
        original: '/app/.venv/lib/python3.11/site-packages/scipy.libs/libgfortran.so',
      },
    } as unknown as Finding;
    const all: PruneCategory[] = [...PRUNE_CATEGORIES];

    /** The patch for the plan a BuildKit build ran with these rules. */
    async function patchWithFixes(rules: FixOptions['rules'], options = fixes(rules)) {
      const dir = project({ 'ctx/Dockerfile': SINGLE });
      const settings = settingsIn(dir, 'ctx', dir);
      const built = planSlim(SINGLE, {
        buildKit: true,
        scriptPath: '.slimpy/prune.sh',
        scriptArgs: ['--prune', all.join(',')],
        fixes: options,
      });
      const variant = { strip: true, prune: all, keep: [] };
      const written = await writeSlimmedFiles(settings, SINGLE, variant, {
        plan: built,
        scriptText: '#!/bin/sh\n# the whole prune.sh\n',
        fixes: options,
      });
      return {
        built,
        patch: written.patch,
        dockerfile: readFileSync(written.files.dockerfile, 'utf8'),
      };
    }

    it('carries them for the classic builder, with the short script and the rules named per RUN', async () => {
      const { built, patch, dockerfile } = await patchWithFixes(['leftovers', 'earlier-layers']);
      expect(built.text).toContain('--mount=type=bind'); // the build itself used BuildKit
      expect(dockerfile).not.toContain('--mount');
      expect(dockerfile).toContain(
        'apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*',
      );
      // The RUN that creates the venv prunes it without strip and keeps pip for the next RUN.
      expect(dockerfile).toContain(
        'RUN python3 -m venv /app/.venv && sh /tmp/slimpy-prune.sh --no-strip --prune tests,pycache,stubs,sources,static-libs,caches /app/.venv && rm -f /tmp/slimpy-prune.sh',
      );
      expect(dockerfile).toMatch(
        /pip install numpy && sh \/tmp\/slimpy-prune\.sh --prune tests,pycache,stubs,sources,static-libs,packaging,caches && rm -f/,
      );
      const script = patch.split(/^diff --git /m).find((part) => part.includes('new file mode'))!;
      expect(script).toContain('+# Generated by slimpy');
      expect(script).not.toContain('the whole prune.sh');
    });

    it('links duplicates with the short script too, where the RUN says --dedupe', async () => {
      const options = fixes(['duplicates']);
      options.findings = [duplicateFinding];
      const { patch, dockerfile } = await patchWithFixes(['duplicates'], options);
      expect(dockerfile).toMatch(/sh \/tmp\/slimpy-prune\.sh --prune \S+ --dedupe && rm -f/);
      expect(patch).toContain('+dedupe() {');
      expect(patch).not.toContain('the whole prune.sh');
    });

    it("keeps the build's own rewrite with `unused`, which needs the trace's list", async () => {
      const dir = project({ 'ctx/Dockerfile': SINGLE });
      const settings = settingsIn(dir, 'ctx', dir);
      const built = planSlim(SINGLE, {
        buildKit: true,
        scriptPath: '.slimpy/prune.sh',
        scriptArgs: ['--prune', 'all,unused'],
      });
      const written = await writeSlimmedFiles(
        settings,
        SINGLE,
        { strip: true, prune: [...all, 'unused'], keep: [] },
        {
          plan: built,
          scriptText: '#!/bin/sh\n# the whole prune.sh\n',
        },
      );
      expect(written.patch).toContain('the whole prune.sh');
    });
  });
});
