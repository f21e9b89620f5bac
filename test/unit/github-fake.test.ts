import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createOctokit } from '../../src/report/octokit.js';
import {
  loadGitHubOpenApi,
  seedComments,
  startGitHubFake,
  type GitHubFake,
  type GitHubFakeOptions,
} from '../support/github-fake.js';

const where = { owner: 'acme', repo: 'millpond', issueNumber: 58 };
const commentsPath = '/repos/acme/millpond/issues/58/comments';
let fake: GitHubFake | undefined;

// Parsing GitHub's 13 MB description takes a second or more on a busy machine: once, up front.
beforeAll(async () => {
  await loadGitHubOpenApi();
}, 60_000);

async function start(options: GitHubFakeOptions = {}): Promise<GitHubFake> {
  fake = await startGitHubFake(options);
  return fake;
}

async function call(f: GitHubFake, method: string, path: string, body?: unknown) {
  const response = await fetch(`${f.url}${path}`, {
    method,
    headers: { authorization: 'token ghs_test', accept: 'application/vnd.github+json' },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    json: text ? (JSON.parse(text) as unknown) : undefined,
  };
}

/** The fake's answer checked against GitHub's response schema, independently of the fake's own check. */
async function expectSchemaValid(
  operationId: string,
  status: number,
  body: unknown,
): Promise<void> {
  const spec = await loadGitHubOpenApi();
  const pointer = spec.byId.get(operationId)?.responses[String(status)];
  expect(pointer, `${operationId} documents a JSON ${status}`).toBeDefined();
  expect(spec.validate(pointer ?? '', body)).toEqual([]);
}

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

describe('GitHub API fake: issue comments', () => {
  it('creates, gets, updates, lists and deletes, answering with schema-valid bodies', async () => {
    const f = await start();
    const created = await call(f, 'POST', commentsPath, { body: 'hello' });
    expect(created.status).toBe(201);
    await expectSchemaValid('issues/create-comment', 201, created.json);
    const id = (created.json as { id: number }).id;
    expect(created.headers.get('location')).toBe(
      `${f.url}/repos/acme/millpond/issues/comments/${id}`,
    );

    const got = await call(f, 'GET', `/repos/acme/millpond/issues/comments/${id}`);
    expect(got.status).toBe(200);
    await expectSchemaValid('issues/get-comment', 200, got.json);

    const updated = await call(f, 'PATCH', `/repos/acme/millpond/issues/comments/${id}`, {
      body: 'edited',
    });
    expect(updated.status).toBe(200);
    expect(updated.json).toMatchObject({ id, body: 'edited' });
    await expectSchemaValid('issues/update-comment', 200, updated.json);

    const listed = await call(f, 'GET', commentsPath);
    expect(listed.json).toHaveLength(1);
    await expectSchemaValid('issues/list-comments', 200, listed.json);

    expect((await call(f, 'DELETE', `/repos/acme/millpond/issues/comments/${id}`)).status).toBe(
      204,
    );
    expect(f.comments('acme', 'millpond', 58)).toEqual([]);
    expect(f.violations).toEqual([]);
    expect(f.requests.map((r) => `${r.method} ${r.operationId} ${r.status}`)).toEqual([
      'POST issues/create-comment 201',
      'GET issues/get-comment 200',
      'PATCH issues/update-comment 200',
      'GET issues/list-comments 200',
      'DELETE issues/delete-comment 204',
    ]);
    expect(f.requests[0]).toMatchObject({
      body: { body: 'hello' },
      authorization: 'token ghs_test',
    });
  });

  it('paginates 150 comments with GitHub’s Link headers', async () => {
    const f = await start({ comments: seedComments(where, 150) });
    const first = await call(f, 'GET', `${commentsPath}?per_page=100`);
    expect(first.json).toHaveLength(100);
    expect(first.headers.get('link')).toBe(
      `<${f.url}${commentsPath}?per_page=100&page=2>; rel="next", <${f.url}${commentsPath}?per_page=100&page=2>; rel="last"`,
    );
    const second = await call(f, 'GET', `${commentsPath}?per_page=100&page=2`);
    expect((second.json as Array<{ body: string }>).map((c) => c.body).at(-1)).toBe(
      'Comment 150: looks good to me.',
    );
    expect(second.headers.get('link')).toBe(
      `<${f.url}${commentsPath}?per_page=100&page=1>; rel="prev", <${f.url}${commentsPath}?per_page=100&page=1>; rel="first"`,
    );
    const byDefault = await call(f, 'GET', commentsPath);
    expect(byDefault.json).toHaveLength(30); // GitHub's default page size
    expect(byDefault.headers.get('link')).toContain('page=5>; rel="last"');
    expect(f.violations).toEqual([]);
  });

  it('serves Octokit’s paginate() every comment', async () => {
    const f = await start({ comments: seedComments(where, 250) });
    const octokit = createOctokit('ghs_test', { baseUrl: f.url, maxRetryWaitMs: 10 });
    const all = await octokit.paginate(octokit.rest.issues.listComments, {
      owner: 'acme',
      repo: 'millpond',
      issue_number: 58,
      per_page: 100,
    });
    expect(all).toHaveLength(250);
    expect(f.requests.map((r) => r.query.page ?? '1')).toEqual(['1', '2', '3']);
    expect(f.violations).toEqual([]);
  });
});

describe('GitHub API fake: requests GitHub would refuse are violations', () => {
  it.each([
    ['a body without `body`', 'POST', commentsPath, { text: 'hi' }, 422, 'body'],
    ['a non-string body', 'POST', commentsPath, { body: 42 }, 422, 'body'],
    ['no body at all', 'POST', commentsPath, undefined, 422, 'body'],
    ['JSON that does not parse', 'POST', commentsPath, '{"body": ', 400, 'body'],
    [
      'an issue number that is not a number',
      'GET',
      '/repos/acme/millpond/issues/fifty/comments',
      undefined,
      404,
      'path-params',
    ],
    [
      'a page size that is not a number',
      'GET',
      `${commentsPath}?per_page=lots`,
      undefined,
      400,
      'query',
    ],
    [
      'a query parameter the operation lacks',
      'GET',
      `${commentsPath}?sort=created`,
      undefined,
      400,
      'query',
    ],
    [
      'a route GitHub does not have',
      'GET',
      '/repos/acme/millpond/slimming/report',
      undefined,
      404,
      'unknown-route',
    ],
    ['a method the route does not take', 'PUT', commentsPath, { body: 'x' }, 404, 'unknown-route'],
    [
      'a body longer than 65,536 characters',
      'POST',
      commentsPath,
      { body: 'x'.repeat(65_537) },
      422,
      'body',
    ],
  ] as const)('%s', async (_name, method, path, body, status, kind) => {
    const f = await start();
    const response = await call(f, method, path, body);
    expect(response.status).toBe(status);
    expect(response.json).toMatchObject({ message: expect.any(String) });
    expect(f.violations.map((v) => v.kind)).toEqual([kind]);
    expect(f.comments('acme', 'millpond', 58)).toEqual([]);
  });

  it('answers a wrong token with 401 when a token is required', async () => {
    const f = await start({ token: 'ghs_right' });
    const response = await call(f, 'GET', commentsPath);
    expect(response.status).toBe(401);
    expect(response.json).toMatchObject({ message: 'Bad credentials' });
    expect(f.violations.map((v) => v.kind)).toEqual(['auth']);
  });

  it('records an operation it does not implement', async () => {
    const f = await start();
    expect((await call(f, 'GET', '/repos/acme/millpond/pulls/58/files')).status).toBe(501);
    expect(f.violations).toMatchObject([
      { kind: 'unimplemented', operationId: 'pulls/list-files' },
    ]);
  });

  it('answers GET /user with 403 for an installation token (a [bot] login)', async () => {
    const f = await start();
    const refused = await call(f, 'GET', '/user');
    expect(refused.status).toBe(403);
    expect(refused.json).toMatchObject({ message: 'Resource not accessible by integration' });
    expect(f.violations).toEqual([]);
  });

  it("answers GET /user with the user's profile for a user's token", async () => {
    const f = await start({ login: 'release-robot' });
    const answered = await call(f, 'GET', '/user');
    expect(answered.status).toBe(200);
    expect(answered.json).toMatchObject({ login: 'release-robot', type: 'User' });
    expect(f.violations).toEqual([]);
  });

  it('answers pulls/get for the pull requests it was given, valid to the schema', async () => {
    const f = await start({
      pulls: [{ owner: 'acme', repo: 'millpond', number: 58, headSha: 'c'.repeat(40) }],
    });
    const pull = await call(f, 'GET', '/repos/acme/millpond/pulls/58');
    expect(pull.status).toBe(200);
    expect(pull.json).toMatchObject({ number: 58, head: { sha: 'c'.repeat(40) } });
    expect((await call(f, 'GET', '/repos/acme/millpond/pulls/59')).status).toBe(404);
    expect(f.violations).toEqual([]);
  });

  it('takes extra operations as handlers, and holds their answers to the schema', async () => {
    const f = await start({
      handlers: { 'pulls/get': () => ({ status: 200, body: { number: 58 } }) },
    });
    expect((await call(f, 'GET', '/repos/acme/millpond/pulls/58')).status).toBe(200);
    expect(f.violations).toMatchObject([{ kind: 'response', operationId: 'pulls/get' }]);
  });
});

describe('GitHub API fake: scripted faults', () => {
  it('answers 403 "Resource not accessible by integration" every time when told to', async () => {
    const f = await start({
      faults: [{ operationId: 'issues/create-comment', kind: 'forbidden', times: Infinity }],
    });
    for (let i = 0; i < 2; i += 1) {
      const response = await call(f, 'POST', commentsPath, { body: 'x' });
      expect(response.status).toBe(403);
      await expectSchemaValid('issues/create-comment', 403, response.json);
      expect(response.json).toMatchObject({ message: 'Resource not accessible by integration' });
    }
    expect((await call(f, 'GET', commentsPath)).status).toBe(200); // other operations unaffected
    expect(f.violations).toEqual([]);
  });

  it('answers 502 once, then normally', async () => {
    const f = await start({
      faults: [{ operationId: 'issues/create-comment', kind: 'server-error' }],
    });
    expect((await call(f, 'POST', commentsPath, { body: 'x' })).status).toBe(502);
    expect((await call(f, 'POST', commentsPath, { body: 'x' })).status).toBe(201);
  });

  it('sends the headers a primary rate limit carries', async () => {
    const f = await start({
      faults: [{ operationId: 'issues/list-comments', kind: 'rate-limit', retryAfterSeconds: 5 }],
    });
    const response = await call(f, 'GET', commentsPath);
    expect(response.status).toBe(403);
    expect(response.headers.get('x-ratelimit-remaining')).toBe('0');
    const reset = Number(response.headers.get('x-ratelimit-reset'));
    expect(reset - Date.now() / 1000).toBeGreaterThan(3);
    expect((await call(f, 'GET', commentsPath)).headers.get('x-ratelimit-remaining')).toBe('4999');
  });

  it('sends 429 with retry-after for a secondary rate limit, added while running', async () => {
    const f = await start();
    f.addFault({
      operationId: 'issues/update-comment',
      kind: 'secondary-rate-limit',
      retryAfterSeconds: 2,
    });
    const id = ((await call(f, 'POST', commentsPath, { body: 'x' })).json as { id: number }).id;
    const response = await call(f, 'PATCH', `/repos/acme/millpond/issues/comments/${id}`, {
      body: 'y',
    });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('2');
    expect(response.json).toMatchObject({ message: expect.stringMatching(/secondary rate limit/) });
  });
});

describe('event fixtures', () => {
  const dir = new URL('../fixtures/events/', import.meta.url);
  const schemaFor: Record<string, string> = {
    'pull_request.opened.json': 'webhook-pull-request-opened',
    'pull_request.synchronize.fork.json': 'webhook-pull-request-synchronize',
    'push.json': 'webhook-push',
    'workflow_dispatch.json': 'webhook-workflow-dispatch',
    'workflow_run.completed.fork.json': 'webhook-workflow-run-completed',
  };

  it('has a schema for every fixture', () => {
    expect(readdirSync(dir).sort()).toEqual(Object.keys(schemaFor).sort());
  });

  // The fixtures are trimmed to what the runner and slimpy read, so required fields are missing on
  // purpose; every field that is there must have the type and format GitHub documents.
  it.each(Object.entries(schemaFor))('%s holds to %s (fields present)', async (file, schema) => {
    const spec = await loadGitHubOpenApi();
    const payload = JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as unknown;
    const errors = spec.validate(`/components/schemas/${schema}`, payload);
    expect(errors.filter((error) => !error.includes('must have required property'))).toEqual([]);
  });
});
