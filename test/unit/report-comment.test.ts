import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CommentPermissionError, upsertComment } from '../../src/report/comment.js';
import { commentMarker } from '../../src/report/markdown.js';
import {
  createOctokit,
  maxRetryWaitFromEnv,
  DEFAULT_MAX_RETRY_WAIT_MS,
} from '../../src/report/octokit.js';
import {
  loadGitHubOpenApi,
  seedComments,
  startGitHubFake,
  type GitHubFake,
  type GitHubFakeOptions,
} from '../support/github-fake.js';

const where = { owner: 'acme', repo: 'millpond', issueNumber: 58 };
const marker = commentMarker('examples/pyarrow-duckdb/Dockerfile');
const bot = 'github-actions[bot]';

let fake: GitHubFake | undefined;

// Parsing GitHub's 13 MB description takes a second or more on a busy machine: once, up front.
beforeAll(async () => {
  await loadGitHubOpenApi();
}, 60_000);

async function start(options: GitHubFakeOptions = {}) {
  fake = await startGitHubFake({ token: 'ghs_test', ...options });
  // Waits capped at 20 ms: the retry tests must not sleep for GitHub's real retry-after.
  const octokit = createOctokit('ghs_test', { baseUrl: fake.url, maxRetryWaitMs: 20 });
  return { fake, octokit };
}

function writes(f: GitHubFake) {
  return f.requests
    .filter((r) => r.method !== 'GET')
    .map((r) => `${r.method} ${r.path} ${r.status}`);
}

afterEach(async () => {
  const finished = fake;
  fake = undefined;
  if (!finished) return;
  await finished.close();
  // Every request slimpy made must be one GitHub documents, with a valid body and parameters.
  expect(finished.violations).toEqual([]);
});

describe('upsertComment', () => {
  it('creates the comment on the first run, with the marker first', async () => {
    const { fake, octokit } = await start();
    const result = await upsertComment(octokit, {
      ...where,
      marker,
      body: `${marker}\nfirst report`,
    });

    expect(result.action).toBe('created');
    expect(result.url).toMatch(
      /^https:\/\/github\.com\/acme\/millpond\/pull\/58#issuecomment-\d+$/,
    );
    const comments = fake.comments('acme', 'millpond', 58);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.id).toBe(result.id);
    expect(comments[0]?.body).toBe(`${marker}\nfirst report`);
    expect(writes(fake)).toEqual(['POST /repos/acme/millpond/issues/58/comments 201']);
  });

  it('updates the same comment on the second run: a PATCH, never a second POST', async () => {
    const { fake, octokit } = await start();
    const first = await upsertComment(octokit, { ...where, marker, body: `${marker}\nrun 1` });
    const second = await upsertComment(octokit, { ...where, marker, body: `${marker}\nrun 2` });

    expect(second).toEqual({
      url: first.url,
      id: first.id,
      action: 'updated',
      author: bot,
      lookedFor: bot,
    });
    expect(writes(fake)).toEqual([
      'POST /repos/acme/millpond/issues/58/comments 201',
      `PATCH /repos/acme/millpond/issues/comments/${first.id} 200`,
    ]);
    expect(fake.comments('acme', 'millpond', 58).map((c) => c.body)).toEqual([`${marker}\nrun 2`]);
  });

  it('finds its comment on page 2 of a busy pull request (150 comments)', async () => {
    const { fake, octokit } = await start({
      comments: seedComments(where, 150, { 120: { body: `${marker}\nold report`, login: bot } }),
    });
    const target = fake.comments('acme', 'millpond', 58);
    expect(target).toHaveLength(0); // seeds appear with the first request, which knows the URL

    const result = await upsertComment(octokit, {
      ...where,
      marker,
      body: `${marker}\nnew report`,
    });

    const comments = fake.comments('acme', 'millpond', 58);
    expect(comments).toHaveLength(150);
    expect(result).toMatchObject({ action: 'updated', id: comments[120]?.id });
    expect(comments[120]?.body).toBe(`${marker}\nnew report`);
    const pages = fake.requests
      .filter((r) => r.operationId === 'issues/list-comments')
      .map((r) => r.query.page ?? '1');
    expect(pages).toEqual(['1', '2']);
    expect(writes(fake)).toEqual([
      `PATCH /repos/acme/millpond/issues/comments/${comments[120]?.id} 200`,
    ]);
  });

  it('updates the newest when older bugs left several marked comments', async () => {
    const { fake, octokit } = await start({
      comments: seedComments(where, 130, {
        3: { body: `${marker}\nduplicate 1`, login: bot },
        110: { body: `${marker}\nduplicate 2`, login: bot },
      }),
    });
    const result = await upsertComment(octokit, { ...where, marker, body: `${marker}\nlatest` });

    const comments = fake.comments('acme', 'millpond', 58);
    expect(result.id).toBe(comments[110]?.id);
    expect(comments[3]?.body).toBe(`${marker}\nduplicate 1`);
    expect(comments[110]?.body).toBe(`${marker}\nlatest`);
  });

  it("ignores another key's comment and a person's comment that quotes the marker", async () => {
    const { fake, octokit } = await start({
      comments: seedComments(where, 3, {
        0: { body: `${commentMarker('other/Dockerfile')}\nanother image`, login: bot },
        1: { body: `Why does it say this?\n> ${marker}`, login: 'octocat' },
      }),
    });
    const result = await upsertComment(octokit, { ...where, marker, body: `${marker}\nmine` });

    expect(result.action).toBe('created');
    expect(fake.comments('acme', 'millpond', 58).map((c) => c.body.split('\n')[0])).toEqual([
      commentMarker('other/Dockerfile'),
      'Why does it say this?',
      'Comment 3: looks good to me.',
      marker,
    ]);
  });

  it('leaves a comment someone else started with the marker alone and makes its own', async () => {
    const { fake, octokit } = await start({
      comments: seedComments(where, 2, { 1: { body: `${marker}\nnot slimpy`, login: 'octocat' } }),
    });
    const result = await upsertComment(octokit, { ...where, marker, body: `${marker}\nmine` });

    expect(result).toMatchObject({ action: 'created', author: bot });
    const comments = fake.comments('acme', 'millpond', 58);
    expect(comments.map((c) => [c.user.login, c.body])).toEqual([
      ['octocat', 'Comment 1: looks good to me.'],
      ['octocat', `${marker}\nnot slimpy`],
      [bot, `${marker}\nmine`],
    ]);
    expect(writes(fake)).toEqual(['POST /repos/acme/millpond/issues/58/comments 201']);
  });

  it("a user's token: its comments are found by the login GET /user names", async () => {
    const { fake, octokit } = await start({
      login: 'release-robot',
      comments: seedComments(where, 2, {
        0: { body: `${marker}\nby the Actions bot`, login: bot },
        1: { body: `${marker}\nold`, login: 'release-robot' },
      }),
    });
    const result = await upsertComment(octokit, { ...where, marker, body: `${marker}\nnew` });

    const comments = fake.comments('acme', 'millpond', 58);
    expect(result).toMatchObject({ action: 'updated', id: comments[1]?.id });
    expect(result.author).toBe('release-robot');
    expect(comments.map((c) => c.body)).toEqual([
      `${marker}\nby the Actions bot`,
      `${marker}\nnew`,
    ]);
  });

  it('an author given by the caller is used as it is, with no GET /user', async () => {
    const { fake, octokit } = await start({
      comments: seedComments(where, 1, { 0: { body: `${marker}\nold`, login: 'my-app[bot]' } }),
    });
    const result = await upsertComment(octokit, {
      ...where,
      marker,
      body: `${marker}\nnew`,
      author: 'My-App[bot]',
    });

    expect(result.action).toBe('updated');
    expect(fake.requests.some((r) => r.operationId === 'users/get-authenticated')).toBe(false);
  });

  it('accepts a bare comment key and puts the marker in front of a body without it', async () => {
    const { fake, octokit } = await start();
    await upsertComment(octokit, {
      ...where,
      marker: 'examples/pyarrow-duckdb/Dockerfile',
      body: 'report',
    });
    const second = await upsertComment(octokit, { ...where, marker, body: `${marker}\nreport 2` });

    expect(second.action).toBe('updated');
    expect(fake.comments('acme', 'millpond', 58).map((c) => c.body)).toEqual([
      `${marker}\nreport 2`,
    ]);
  });

  it('turns a 403 on create (a fork’s read-only token) into CommentPermissionError', async () => {
    const { fake, octokit } = await start({
      faults: [{ operationId: 'issues/create-comment', kind: 'forbidden', times: Infinity }],
    });
    const attempt = upsertComment(octokit, { ...where, marker, body: `${marker}\nx` });

    await expect(attempt).rejects.toBeInstanceOf(CommentPermissionError);
    await expect(attempt).rejects.toMatchObject({ status: 403 });
    await expect(attempt).rejects.toThrow(/Resource not accessible by integration/);
    expect(writes(fake)).toEqual(['POST /repos/acme/millpond/issues/58/comments 403']); // not retried
    expect(fake.comments('acme', 'millpond', 58)).toEqual([]);
  });

  it('turns a 403 on update into CommentPermissionError too', async () => {
    const { octokit } = await start({
      comments: seedComments(where, 1, { 0: { body: `${marker}\nold`, login: bot } }),
      faults: [{ operationId: 'issues/update-comment', kind: 'forbidden', times: Infinity }],
    });
    await expect(
      upsertComment(octokit, { ...where, marker, body: `${marker}\nnew` }),
    ).rejects.toBeInstanceOf(CommentPermissionError);
  });

  it('turns a 404 while listing (no access to the repository) into CommentPermissionError', async () => {
    const { fake, octokit } = await start({
      faults: [{ operationId: 'issues/list-comments', kind: 'not-found' }],
    });
    await expect(
      upsertComment(octokit, { ...where, marker, body: `${marker}\nx` }),
    ).rejects.toMatchObject({ name: 'CommentPermissionError', status: 404 });
    expect(writes(fake)).toEqual([]);
  });

  it('retries a 502 and succeeds', async () => {
    const { fake, octokit } = await start({
      faults: [{ operationId: 'issues/create-comment', kind: 'server-error' }],
    });
    const result = await upsertComment(octokit, { ...where, marker, body: `${marker}\nx` });

    expect(result.action).toBe('created');
    expect(writes(fake)).toEqual([
      'POST /repos/acme/millpond/issues/58/comments 502',
      'POST /repos/acme/millpond/issues/58/comments 201',
    ]);
    expect(fake.comments('acme', 'millpond', 58)).toHaveLength(1);
  });

  it('retries a 502 while listing comments', async () => {
    const { fake, octokit } = await start({
      faults: [{ operationId: 'issues/list-comments', kind: 'server-error' }],
    });
    await upsertComment(octokit, { ...where, marker, body: `${marker}\nx` });
    expect(fake.requests.map((r) => `${r.method} ${r.status}`)).toEqual([
      'GET 403', // GET /user: an installation token has no user; its comments are the bot's
      'GET 502',
      'GET 200',
      'POST 201',
    ]);
  });

  it('waits out a primary rate limit (403, x-ratelimit-remaining: 0) and succeeds', async () => {
    const { fake, octokit } = await start({
      faults: [{ operationId: 'issues/create-comment', kind: 'rate-limit', retryAfterSeconds: 30 }],
    });
    const started = Date.now();
    const result = await upsertComment(octokit, { ...where, marker, body: `${marker}\nx` });

    expect(result.action).toBe('created');
    expect(writes(fake)).toEqual([
      'POST /repos/acme/millpond/issues/58/comments 403',
      'POST /repos/acme/millpond/issues/58/comments 201',
    ]);
    expect(Date.now() - started).toBeLessThan(10_000); // the 30 s reset was capped
  });

  it('waits out a secondary rate limit (429, retry-after) and succeeds', async () => {
    const { fake, octokit } = await start({
      faults: [{ operationId: 'issues/update-comment', kind: 'secondary-rate-limit' }],
      comments: seedComments(where, 1, { 0: { body: `${marker}\nold`, login: bot } }),
    });
    const result = await upsertComment(octokit, { ...where, marker, body: `${marker}\nnew` });

    expect(result.action).toBe('updated');
    expect(writes(fake).map((w) => w.split(' ').at(-1))).toEqual(['429', '200']);
  });

  it('gives up after two rate-limit retries with an error that is not a permission error', async () => {
    const { fake, octokit } = await start({
      faults: [{ operationId: 'issues/create-comment', kind: 'rate-limit', times: Infinity }],
    });
    const attempt = upsertComment(octokit, { ...where, marker, body: `${marker}\nx` });

    await expect(attempt).rejects.toThrow(/rate limit/);
    await expect(attempt).rejects.not.toBeInstanceOf(CommentPermissionError);
    expect(writes(fake)).toHaveLength(3);
  });
});

describe('createOctokit', () => {
  it('talks to GITHUB_API_URL when no baseUrl is given', async () => {
    const f = await startGitHubFake();
    fake = f;
    const saved = process.env.GITHUB_API_URL;
    process.env.GITHUB_API_URL = f.url;
    try {
      const octokit = createOctokit('ghs_test', { maxRetryWaitMs: 20 });
      await octokit.rest.issues.listComments({ owner: 'acme', repo: 'millpond', issue_number: 58 });
    } finally {
      if (saved === undefined) delete process.env.GITHUB_API_URL;
      else process.env.GITHUB_API_URL = saved;
    }
    expect(f.requests).toMatchObject([
      {
        method: 'GET',
        path: '/repos/acme/millpond/issues/58/comments',
        authorization: 'token ghs_test',
      },
    ]);
  });
});

describe('maxRetryWaitFromEnv', () => {
  it.each([
    [undefined, DEFAULT_MAX_RETRY_WAIT_MS],
    ['', DEFAULT_MAX_RETRY_WAIT_MS],
    ['250', 250],
    ['0', 0],
    ['soon', DEFAULT_MAX_RETRY_WAIT_MS],
    ['-5', DEFAULT_MAX_RETRY_WAIT_MS],
  ])('SLIMPY_MAX_RETRY_WAIT_MS=%j → %d ms', (value, expected) => {
    expect(
      maxRetryWaitFromEnv(value === undefined ? {} : { SLIMPY_MAX_RETRY_WAIT_MS: value }),
    ).toBe(expected);
  });
});
