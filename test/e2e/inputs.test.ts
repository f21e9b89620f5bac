/**
 * The user's mistakes, end to end and without an engine: the action and the CLI name the input or
 * the path at fault before they ever talk to Docker. DOCKER_HOST points at no engine on purpose,
 * so these also prove the user's errors come first. (Engine faults: hardening.test.itg.ts.)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actionHarness, runIdOf } from '../support/action-process.js';
import { loadGitHubOpenApi, startGitHubFake, type GitHubFake } from '../support/github-fake.js';

const TOKEN = 'ghs_inputsToken00000000000000000000000000';
const NO_ENGINE = { DOCKER_HOST: 'unix:///nonexistent-slimpy-engine.sock' };
const work = mkdtempSync(path.join(os.tmpdir(), 'slimpy-inputs-'));
let fake: GitHubFake;
const harness = actionHarness({ work, token: TOKEN, apiUrl: () => fake.url });
const action = (inputs: Record<string, string>) => harness.action(inputs, { env: NO_ENGINE });
const cli = (args: string[]) => harness.cli(args, NO_ENGINE);
const ranBuild = (output: string): boolean => output.includes('::group::Build the image');

beforeAll(async () => {
  await loadGitHubOpenApi();
  fake = await startGitHubFake({ token: TOKEN });
});

afterAll(async () => {
  await fake?.close();
  rmSync(work, { recursive: true, force: true });
});

/** A build context holding only this Dockerfile. */
function context(name: string, dockerfile: string): string {
  const dir = path.join(work, 'contexts', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'Dockerfile'), dockerfile);
  return dir;
}

describe('bad inputs: exit 1, the input named, nothing built', () => {
  it.each([
    ['budget', 'big', /Invalid `budget`: "big" is not a size/],
    ['max-growth', 'lots', /Invalid `max-growth`: "lots" is neither a percentage/],
    ['prune', 'tests,bogus', /Invalid `prune`: unknown category "bogus"; known: all, none, tests/],
    ['fix', 'leftovers,bogus', /Invalid `fix`: unknown fix rule "bogus"; known: all, none, /],
    ['comment', 'alwyas', /Invalid `comment`: "alwyas" is not one of auto, always, never/],
  ])('%s: %j', async (input, value, message) => {
    const run = await action({ context: 'test/fixtures/pipeline/no-python', [input]: value });
    expect(run.code).toBe(1);
    expect(run.output).toMatch(new RegExp(`::error::${message.source}`));
    expect(ranBuild(run.output)).toBe(false);
    expect(runIdOf(run.files)).toBeUndefined();
  });

  it('the CLI exits 2 for an invalid value, naming the input', async () => {
    const run = await cli(['measure', '--context', 'x', '--budget', 'big']);
    expect(run.code).toBe(2);
    expect(run.output).toContain('slimpy: Invalid `budget`: "big" is not a size');
  });

  it('a missing context names the path and `context`', async () => {
    const run = await action({ context: 'no/such/dir', mode: 'measure' });
    expect(run.code).toBe(1);
    expect(run.output).toContain(
      `::error::The build context ${path.resolve('no/such/dir')} does not exist or is not a directory. Set \`context\``,
    );
  });

  it('a missing Dockerfile names the path and `file`', async () => {
    const run = await action({ context: 'test/fixtures', mode: 'measure' });
    expect(run.code).toBe(1);
    expect(run.output).toContain(
      `::error::No Dockerfile at ${path.resolve('test/fixtures/Dockerfile')}. Set \`file\``,
    );
  });

  it('an unknown target lists the stage names', async () => {
    const run = await action({
      context: 'examples/pyarrow-duckdb',
      target: 'prod',
      mode: 'measure',
    });
    expect(run.code).toBe(1);
    expect(run.output).toContain(
      '::error file=examples/pyarrow-duckdb/Dockerfile::build target "prod" is not a stage in this Dockerfile (stages: builder)',
    );
  });

  it('a Dockerfile slimpy cannot read gets an annotation on its line', async () => {
    const dir = context('preamble', 'ARG BASE\nENV A=1\nFROM scratch\n');
    const run = await action({ context: dir, mode: 'measure' });
    expect(run.code).toBe(1);
    // Outside the workspace the path stays absolute: `../..` would name no file of the repository.
    const file = path.join(dir, 'Dockerfile');
    expect(run.output).toContain(
      `::error file=${file},line=2::Dockerfile line 2: ENV appears before the first FROM`,
    );
  });
});

describe('no engine at all', () => {
  it('action: says how to start one', async () => {
    const run = await action({ context: 'test/fixtures/pipeline/no-python', mode: 'measure' });
    expect(run.code).toBe(1);
    expect(run.output).toMatch(
      /::error::No Docker engine answers at unix:\/\/\/nonexistent-slimpy-engine\.sock \(connect ENOENT \/nonexistent-slimpy-engine\.sock\)\. Start one .*or point DOCKER_HOST at it\./,
    );
  });

  it('CLI: says how to start one', async () => {
    const run = await cli([
      'measure',
      '--context',
      path.resolve('test/fixtures/pipeline/no-python'),
    ]);
    expect(run.code).toBe(1);
    expect(run.output).toMatch(
      /slimpy: No Docker engine answers at unix:\/\/\/nonexistent-slimpy-engine\.sock .*Start one .*`sudo systemctl start docker`/,
    );
  });
});
