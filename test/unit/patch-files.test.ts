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
import { readSettings } from '../../src/inputs.js';
import { repositoryRoot, writeSlimmedFiles } from '../../src/pipeline/files.js';

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

async function patchFor(dir: string, context: string, workspace = process.cwd()) {
  const settings = readSettings((name) => (name === 'context' ? path.join(dir, context) : ''), {
    workspace,
    outputDir: path.join(dir, 'out'),
    cacheDir: path.join(dir, 'cache'),
    runId: 'r',
  });
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
});
