/**
 * The fork round trip in process, against the real @actions/artifact and Octokit: the comment
 * written as an artifact by one run, found, checked and posted by another. The e2e suite runs the
 * same through the bundled action (test/e2e/workflows.test.itg.ts).
 *
 * @actions/github reads GITHUB_API_URL when it is first imported, so the API fake starts first
 * and the modules under test are imported after it.
 */
import { mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commentMarker } from '../../src/report/markdown.js';
import {
  startArtifactServiceFake,
  type ArtifactServiceFake,
} from '../support/artifact-service-fake.js';
import { loadGitHubOpenApi, startGitHubFake, type GitHubFake } from '../support/github-fake.js';

const HEAD = 'b7d3e1f9a5c2468e0d1b3f5a7c9e2d4f6a8b0c13';
const KEY = 'examples/pyarrow-duckdb/Dockerfile';
const MOVED_ON = 59; // a PR whose head is newer than the run that measured it
const saved = { ...process.env };
let store: ArtifactServiceFake;
let github: GitHubFake;
let artifacts: typeof import('../../src/report/comment-artifact.js');
let postCommentArtifacts: (typeof import('../../src/report/post-comment.js'))['postCommentArtifacts'];

beforeAll(async () => {
  await loadGitHubOpenApi();
  store = await startArtifactServiceFake();
  github = await startGitHubFake({
    token: 'ghs_base',
    handlers: store.githubHandlers,
    pulls: [
      {
        ...{ owner: 'acme', repo: 'millpond', number: 58 },
        headSha: HEAD,
        headRepository: 'contributor/millpond',
      },
      { ...{ owner: 'acme', repo: 'millpond', number: MOVED_ON }, headSha: '1'.repeat(40) },
    ],
  });
  process.env.GITHUB_API_URL = github.url;
  process.env.RUNNER_TEMP = mkdtempSync(path.join(os.tmpdir(), 'slimpy-artifact-'));
  process.env.GITHUB_WORKSPACE = process.env.RUNNER_TEMP;
  process.env.SLIMPY_MAX_RETRY_WAIT_MS = '20';
  artifacts = await import('../../src/report/comment-artifact.js');
  ({ postCommentArtifacts } = await import('../../src/report/post-comment.js'));
}, 60_000);

afterAll(async () => {
  await store.close();
  await github.close();
  process.env = saved;
  expect(github.violations).toEqual([]);
});

/** What a step of workflow run `runId` sees: its own runtime token for the artifact service. */
function inRun(runId: number): void {
  Object.assign(process.env, store.runEnv(runId));
}

const log = () => {
  const lines: string[] = [];
  return {
    lines,
    info: (l: string) => lines.push(l),
    warning: (m: string) => lines.push(`warning: ${m}`),
  };
};

const base = { token: 'ghs_base', owner: 'acme', repo: 'millpond' };

describe('comment artifacts', { timeout: 60_000 }, () => {
  it('names one artifact per comment key, within the characters artifact names allow', () => {
    const { commentArtifactName } = artifacts;
    const name = commentArtifactName('services/api/Dockerfile#runtime');
    expect(name).toMatch(/^slimpy-comment-services\/?/);
    expect(name).not.toMatch(/[":<>|*?\\/\r\n]/);
    expect(commentArtifactName('a/Dockerfile')).not.toBe(commentArtifactName('b/Dockerfile'));
  });

  it('a pull_request run uploads it; the workflow_run run posts it, then edits it in place', async () => {
    const { commentArtifactName, uploadCommentArtifact } = artifacts;
    const body = `${commentMarker(KEY)}\nround 1`;
    inRun(2001);
    await uploadCommentArtifact({ pullRequest: 58, headSha: HEAD, commentKey: KEY, body });
    expect(store.artifacts().map((a) => [a.runId, a.name, a.finalized])).toEqual([
      [2001, commentArtifactName(KEY), true],
    ]);

    inRun(2002); // the workflow_run run: its own token for the service, the base repo's for the API
    const posted = await postCommentArtifacts({
      ...base,
      log: log(),
      run: { id: 2001, event: 'pull_request', headSha: HEAD },
    });
    expect(posted).toMatchObject([{ pullRequest: 58, action: 'created' }]);
    expect(github.comments('acme', 'millpond', 58).map((c) => c.body)).toEqual([body]);

    inRun(2003);
    await uploadCommentArtifact({
      pullRequest: 58,
      headSha: HEAD,
      commentKey: KEY,
      body: `${commentMarker(KEY)}\nround 2`,
    });
    inRun(2004);
    const again = await postCommentArtifacts({
      ...base,
      log: log(),
      run: { id: 2003, event: 'pull_request', headSha: HEAD },
    });
    expect(again).toMatchObject([{ action: 'updated', url: posted[0]?.url }]);
    expect(github.comments('acme', 'millpond', 58).map((c) => c.body)).toEqual([
      `${commentMarker(KEY)}\nround 2`,
    ]);
  });

  it('does not post on a pull request whose head moved on, nor for an artifact naming another commit', async () => {
    const writes = () => github.requests.filter((r) => r.method !== 'GET').length;
    const before = writes();
    inRun(3001);
    await artifacts.uploadCommentArtifact({
      pullRequest: MOVED_ON,
      headSha: HEAD,
      commentKey: KEY,
      body: 'stale',
    });
    inRun(3003);
    await artifacts.uploadCommentArtifact({
      pullRequest: 58,
      headSha: '2'.repeat(40),
      commentKey: KEY,
      body: 'forged',
    });
    inRun(3002);
    const lines = log();
    const run = { event: 'pull_request', headSha: HEAD };
    expect(await postCommentArtifacts({ ...base, log: lines, run: { ...run, id: 3001 } })).toEqual(
      [],
    );
    expect(await postCommentArtifacts({ ...base, log: lines, run: { ...run, id: 3003 } })).toEqual(
      [],
    );
    expect(lines.lines).toEqual([
      expect.stringMatching(/^warning: Not posting on PR #59: its head is 1111111, not b7d3e1f/),
      expect.stringMatching(
        /^warning: Not posting on PR #58: the artifact says it measured 2222222/,
      ),
    ]);
    expect(writes()).toBe(before);
  });

  it('says so when the run left no comment artifact', async () => {
    inRun(4002);
    const lines = log();
    const posted = await postCommentArtifacts({
      ...base,
      log: lines,
      run: { id: 4001, event: 'pull_request', headSha: HEAD },
    });
    expect(posted).toEqual([]);
    expect(lines.lines.join('\n')).toMatch(/Run 4001 left no slimpy-comment-\* artifact/);
  });
});

describe('parseCommentArtifact (the bytes come from a fork)', () => {
  const good = { version: 1, pullRequest: 58, headSha: HEAD, commentKey: KEY, body: 'x' };
  it.each([
    ['not JSON', Buffer.from('<html>')],
    ['another version', Buffer.from(JSON.stringify({ ...good, version: 2 }))],
    ['no PR number', Buffer.from(JSON.stringify({ ...good, pullRequest: '58' }))],
    ['a head that is not a SHA', Buffer.from(JSON.stringify({ ...good, headSha: 'main; rm -rf' }))],
    ['an empty body', Buffer.from(JSON.stringify({ ...good, body: ' ' }))],
    [
      'a body over GitHub’s limit',
      Buffer.from(JSON.stringify({ ...good, body: 'x'.repeat(70_000) })),
    ],
    ['too many bytes', Buffer.alloc(1_000_000, 32)],
  ])('refuses %s', (_what, bytes) => {
    expect(() => artifacts.parseCommentArtifact('slimpy-comment-x.json', bytes)).toThrow(
      /is not a slimpy comment/,
    );
  });

  it('keeps exactly the fields it knows', () => {
    const parsed = artifacts.parseCommentArtifact(
      'n',
      Buffer.from(JSON.stringify({ ...good, extra: 'ignored' })),
    );
    expect(parsed).toEqual(good);
  });
});
