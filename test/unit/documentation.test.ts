/**
 * What a user reads matches what slimpy does: every action input is read and validated and in the
 * README's table, every output is set and documented, every CLI flag is in `--help` and the
 * README, every environment variable slimpy reads is in the README's table.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI_OPTIONS, CLI_USAGE } from '../../src/cli-flags.js';
import { readMode, readPostCommentInputs, readSettings } from '../../src/inputs.js';

const readme = readFileSync('README.md', 'utf8');
const actionYml = readFileSync('action.yml', 'utf8');

/** The keys directly under `section:` in action.yml (two-space indented names). */
function actionKeys(section: 'inputs' | 'outputs'): string[] {
  const start = actionYml.indexOf(`\n${section}:\n`);
  const rest = actionYml.slice(start + section.length + 3);
  const end = rest.search(/^\S/m);
  return [...(end < 0 ? rest : rest.slice(0, end)).matchAll(/^ {2}([a-z-]+):$/gm)].map(
    (m) => m[1]!,
  );
}

/** The README section under `## title`, up to the next `## `. */
function readmeSection(title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`);
  expect(start, `README has a "## ${title}" section`).toBeGreaterThan(-1);
  const rest = readme.slice(start + title.length + 5);
  const end = rest.search(/^## /m);
  return end < 0 ? rest : rest.slice(0, end);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? sourceFiles(full) : full.endsWith('.ts') ? [full] : [];
  });
}

describe('documentation', () => {
  const inputs = actionKeys('inputs');

  it('action.yml has the inputs and outputs this test reads', () => {
    expect(inputs).toEqual(expect.arrayContaining(['context', 'image', 'comment', 'mode']));
    expect(actionKeys('outputs')).toEqual(expect.arrayContaining(['comment-body', 'patch']));
  });

  it('reads every action input (the token in main.ts)', () => {
    const read = new Set<string>(['github-token']);
    const reader = (name: string): string => {
      read.add(name);
      return '';
    };
    readSettings(reader, { workspace: '/w', outputDir: '/o', cacheDir: '/c', runId: 'r' });
    readMode(reader);
    readPostCommentInputs(reader);
    expect(inputs.filter((name) => !read.has(name))).toEqual([]);
  });

  it('documents every input in the README Inputs table', () => {
    const table = readmeSection('Inputs');
    expect(inputs.filter((name) => !table.includes(`| \`${name}\` |`))).toEqual([]);
  });

  it('sets and documents every output', () => {
    const table = readmeSection('Outputs');
    const src = sourceFiles('src')
      .map((file) => readFileSync(file, 'utf8'))
      .join('\n');
    for (const name of actionKeys('outputs')) {
      expect(src, name).toContain(`setOutput('${name}'`);
      expect(table, name).toContain(`\`${name}\``);
    }
  });

  it('shows every CLI flag in --help and in the README CLI table', () => {
    const table = readmeSection('CLI');
    for (const flag of Object.keys(CLI_OPTIONS)) {
      expect(CLI_USAGE, flag).toContain(`--${flag}`);
      expect(table, flag).toContain(`| \`--${flag}`);
    }
  });

  it('lists every environment variable slimpy reads in the README', () => {
    const table = readmeSection('Environment variables');
    const names = new Set(
      sourceFiles('src').flatMap((file) =>
        [...readFileSync(file, 'utf8').matchAll(/\benv\.(SLIMPY_[A-Z_]+)/g)].map((m) => m[1]!),
      ),
    );
    expect(names.size).toBeGreaterThan(0);
    for (const name of names) expect(table, name).toContain(`\`${name}\``);
  });
});
