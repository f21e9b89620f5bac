/**
 * A fake GitHub REST API on 127.0.0.1 that holds every request to GitHub's published OpenAPI
 * description (`@octokit/openapi`, api.github.com). It is a real HTTP server, so the code under test
 * runs its real Octokit client (plugins, pagination, retries) against it, in-process or spawned
 * as `node dist/index.js` with `GITHUB_API_URL=fake.url`.
 *
 *   const fake = await startGitHubFake({ comments: seedComments(...), faults: [...] });
 *   const octokit = createOctokit('token', { baseUrl: fake.url });
 *   ...
 *   expect(fake.violations).toEqual([]);   // every request matched the spec, every answer too
 *   expect(fake.requests.map((r) => r.method)).toEqual(['GET', 'POST']);
 *   await fake.close();
 *
 * Each request is matched to an operation (method + path template), its path and query parameters
 * and JSON body are validated with ajv against the operation's schemas, and the answer is
 * validated against the response schema for its status. Anything that does not hold is recorded in
 * `violations` and answered the way GitHub would: 404 for an unknown route, 400 for bad parameters
 * or unparseable JSON, 422 for a body that breaks the schema (GitHub's "Invalid request").
 *
 * Implemented: issue comments (list with pagination and `Link` headers, get, create, update,
 * delete) and the authenticated user (`GET /user`: the `login` option's profile, or for a
 * `[bot]` login the 403 GitHub gives an app installation token such as GITHUB_TOKEN) and pull
 * requests named in the `pulls` option (`GET /repos/o/r/pulls/N`: GitHub's own example pull
 * request with that number and head commit). Other
 * operations can be added with `handlers`, keyed by operationId. Every issue exists and is a pull
 * request (comment URLs point at `/pull/N`).
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

// ---------------------------------------------------------------------------------------------
// Public API

export interface SeedComment {
  owner: string;
  repo: string;
  issueNumber: number;
  body: string;
  /** Author; default `octocat`. `github-actions[bot]` makes a bot comment. */
  login?: string;
  /** ISO time; default one minute after the previous seeded comment, from 2024-01-01. */
  createdAt?: string;
}

/**
 * A scripted failure for one operation (by operationId, e.g. `issues/create-comment`), applied to
 * the next `times` valid requests (default 1; `Infinity` for always):
 * - `forbidden`: 403 "Resource not accessible by integration" (a fork's read-only token)
 * - `not-found`: 404
 * - `server-error`: 502
 * - `rate-limit`: 403 with `x-ratelimit-remaining: 0` and `x-ratelimit-reset` `retryAfterSeconds` ahead
 * - `secondary-rate-limit`: 429 with `retry-after: retryAfterSeconds`
 */
export interface Fault {
  operationId: string;
  kind: 'forbidden' | 'not-found' | 'server-error' | 'rate-limit' | 'secondary-rate-limit';
  times?: number;
  /** For the rate limits; default 1. */
  retryAfterSeconds?: number;
}

export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. `/repos/o/r/issues/58/comments`. */
  path: string;
  query: Record<string, string>;
  /** The matched operation, e.g. `issues/list-comments`; undefined for an unknown route. */
  operationId?: string;
  /** Parsed JSON body, or the raw text when it did not parse; undefined when empty. */
  body?: unknown;
  authorization?: string;
  /** What the fake answered. */
  status: number;
}

export interface Violation {
  kind: 'unknown-route' | 'path-params' | 'query' | 'body' | 'auth' | 'unimplemented' | 'response';
  method: string;
  path: string;
  operationId?: string;
  errors: string[];
}

/** The fake's view of an issue comment, exactly as the API returns it. */
export interface FakeIssueComment {
  id: number;
  node_id: string;
  url: string;
  html_url: string;
  issue_url: string;
  body: string;
  user: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  author_association: string;
  performed_via_github_app: null;
  reactions: Record<string, unknown>;
}

export interface FakeResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface FakeRequestContext {
  operationId: string;
  /** Path and query parameters, coerced to the types the spec gives them. */
  params: Record<string, unknown>;
  body: unknown;
  /** The request URL, absolute, for building `Link` and resource URLs. */
  url: URL;
  fake: GitHubFake;
}

export type FakeHandler = (context: FakeRequestContext) => FakeResponse;

export interface GitHubFakeOptions {
  comments?: SeedComment[];
  faults?: Fault[];
  /** When set, requests must send `Authorization: token <it>` or `Bearer <it>` (401 otherwise). */
  token?: string;
  /**
   * The token's identity: the login comments are created as, and `GET /user`'s answer (a 403 for
   * a `[bot]` login, as for any app installation token); default `github-actions[bot]`.
   */
  login?: string;
  /** Extra operations, by operationId; they take precedence over the built-in ones. */
  handlers?: Record<string, FakeHandler>;
  /** Pull requests `pulls/get` knows (any other number is a 404). */
  pulls?: FakePull[];
}

export interface FakePull {
  owner: string;
  repo: string;
  number: number;
  headSha: string;
  /** `owner/name` of the head repository; a fork's differs from the base. */
  headRepository?: string;
}

export interface GitHubFake {
  /** `http://127.0.0.1:<port>`: pass as `baseUrl` or `GITHUB_API_URL`. */
  readonly url: string;
  readonly requests: RecordedRequest[];
  readonly violations: Violation[];
  /** The comments on one issue, oldest first (copies). */
  comments(owner: string, repo: string, issueNumber: number): FakeIssueComment[];
  addFault(fault: Fault): void;
  close(): Promise<void>;
}

/** `count` comments by `octocat` on one issue; `marked` maps a 0-based index to a body to use instead. */
export function seedComments(
  where: { owner: string; repo: string; issueNumber: number },
  count: number,
  marked: Record<number, Omit<SeedComment, 'owner' | 'repo' | 'issueNumber'>> = {},
): SeedComment[] {
  return Array.from({ length: count }, (_unused, index) => ({
    ...where,
    body: `Comment ${index + 1}: looks good to me.`,
    ...marked[index],
  }));
}

export async function startGitHubFake(options: GitHubFakeOptions = {}): Promise<GitHubFake> {
  const spec = await loadGitHubOpenApi();
  const state = new FakeState(options, spec);
  const server = createServer((request, response) => {
    handle(spec, state, fake, request, response).catch((error: unknown) => {
      state.violations.push({
        kind: 'unimplemented',
        method: request.method ?? '',
        path: request.url ?? '',
        errors: [`fake crashed: ${error instanceof Error ? error.stack : String(error)}`],
      });
      if (!response.headersSent) send(response, { status: 500, body: { message: 'Server Error' } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const fake: GitHubFake = {
    url: `http://127.0.0.1:${port}`,
    requests: state.requests,
    violations: state.violations,
    comments: (owner, repo, issueNumber) =>
      state.issueComments(owner, repo, issueNumber).map((c) => ({ ...c })),
    addFault: (fault) => {
      state.faults.push({ ...fault, remaining: fault.times ?? 1 });
    },
    close: () => closeServer(server),
  };
  states.set(fake, state);
  return fake;
}

// ---------------------------------------------------------------------------------------------
// The OpenAPI description: loaded once per process, operations indexed by path shape.

const SPEC_ID = 'https://api.github.com/openapi.json';

interface ParameterSpec {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  /** JSON pointer (within the spec) of the parameter's schema. */
  schemaPointer: string;
  type?: string;
}

export interface OpenApiOperation {
  operationId: string;
  method: string;
  template: string;
  pattern: RegExp;
  pathParamNames: string[];
  literalSegments: number;
  parameters: ParameterSpec[];
  /** Pointer of the JSON request body schema, and whether a body is required. */
  requestBody?: { pointer: string; required: boolean };
  /** Pointer of the JSON response schema for each documented status. */
  responses: Record<string, string | undefined>;
  docsUrl: string;
}

export interface GitHubOpenApi {
  operations: OpenApiOperation[];
  byId: Map<string, OpenApiOperation>;
  /** Validates `data` against the schema at `pointer`; returns error messages (empty when valid). */
  validate(pointer: string, data: unknown): string[];
  /** The raw description, for tests that look things up. */
  document: OpenApiDocument;
}

interface OpenApiDocument {
  paths: Record<string, Record<string, unknown>>;
  components: Record<string, unknown>;
  [key: string]: unknown;
}

let specPromise: Promise<GitHubOpenApi> | undefined;

/** GitHub's REST description, parsed and indexed once per process (13 MB, about half a second). */
export function loadGitHubOpenApi(): Promise<GitHubOpenApi> {
  specPromise ??= buildOpenApi();
  return specPromise;
}

async function buildOpenApi(): Promise<GitHubOpenApi> {
  const file = createRequire(import.meta.url).resolve(
    '@octokit/openapi/generated/api.github.com.json',
  );
  const document = JSON.parse(await readFile(file, 'utf8')) as OpenApiDocument;
  // OpenAPI 3.0 is not quite JSON Schema: `strict: false` ignores its extra keywords (`example`,
  // `x-github`, …), ajv understands `nullable` next to `type`, and `adaptNullable` covers the
  // rest. Registering `paths` and `components` under one id lets every `#/components/…` resolve.
  adaptNullable(document.paths);
  adaptNullable(document.components);
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false, logger: false });
  addFormats(ajv);
  ajv.addSchema({ $id: SPEC_ID, paths: document.paths, components: document.components });
  const validators = new Map<string, ValidateFunction>();
  const validate = (pointer: string, data: unknown): string[] => {
    let check = validators.get(pointer);
    if (!check) {
      check = ajv.compile({
        $ref: `${SPEC_ID}#${pointer.split('/').map(encodeURIComponent).join('/')}`,
      });
      validators.set(pointer, check);
    }
    if (check(data)) return [];
    return (check.errors ?? []).map(
      (e) =>
        `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'} ${JSON.stringify(e.params)}`,
    );
  };
  const operations = indexOperations(document);
  return {
    operations,
    byId: new Map(operations.map((op) => [op.operationId, op])),
    validate,
    document,
  };
}

/**
 * GitHub writes "may be null" as OpenAPI 3.0's `nullable: true`, sometimes next to `allOf`/`$ref`
 * without a `type` (ajv refuses those) or with an `enum` that lacks `null` (ajv would reject the
 * null GitHub sends). Rewrites both, in place, into plain JSON Schema.
 */
function adaptNullable(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) adaptNullable(item);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const schema = node as Record<string, unknown>;
  for (const value of Object.values(schema)) adaptNullable(value);
  if (schema.nullable !== true) return;
  if (!('type' in schema)) {
    const { description, ...rest } = schema;
    delete rest.nullable;
    for (const key of Object.keys(schema)) delete schema[key];
    Object.assign(schema, {
      ...(description === undefined ? {} : { description }),
      anyOf: [rest, { type: 'null' }],
    });
  } else if (Array.isArray(schema.enum) && !schema.enum.includes(null)) {
    schema.enum = [...(schema.enum as unknown[]), null];
  }
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

function indexOperations(document: OpenApiDocument): OpenApiOperation[] {
  const operations: OpenApiOperation[] = [];
  for (const [template, pathItem] of Object.entries(document.paths)) {
    const pathPointer = `/paths/${escapePointer(template)}`;
    const shared = parametersOf(document, pathItem.parameters, `${pathPointer}/parameters`);
    for (const method of METHODS) {
      const operation = pathItem[method] as Record<string, unknown> | undefined;
      if (!operation) continue;
      const opPointer = `${pathPointer}/${method}`;
      const own = parametersOf(document, operation.parameters, `${opPointer}/parameters`);
      const names = new Set(own.map((p) => `${p.in}:${p.name}`));
      const pathParamNames = [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] ?? '');
      operations.push({
        operationId: String(operation.operationId),
        method: method.toUpperCase(),
        template,
        pattern: new RegExp(
          `^${template
            .split(/\{[^}]+\}/)
            .map(escapeRegExp)
            .join('([^/]+)')}$`,
        ),
        pathParamNames,
        literalSegments: template.split('/').filter((s) => s !== '' && !s.includes('{')).length,
        parameters: [...own, ...shared.filter((p) => !names.has(`${p.in}:${p.name}`))],
        requestBody: requestBodyOf(document, operation.requestBody, `${opPointer}/requestBody`),
        responses: responsesOf(document, operation.responses, `${opPointer}/responses`),
        docsUrl: String(
          (operation.externalDocs as { url?: string } | undefined)?.url ??
            'https://docs.github.com/rest',
        ),
      });
    }
  }
  return operations;
}

function parametersOf(document: OpenApiDocument, list: unknown, pointer: string): ParameterSpec[] {
  if (!Array.isArray(list)) return [];
  return list.map((entry: unknown, index) => {
    const { value, pointer: at } = deref(document, entry, `${pointer}/${index}`);
    const param = value as {
      name: string;
      in: ParameterSpec['in'];
      required?: boolean;
      schema?: unknown;
    };
    const schema = deref(document, param.schema, `${at}/schema`);
    return {
      name: param.name,
      in: param.in,
      required: param.required,
      schemaPointer: `${at}/schema`,
      type: (schema.value as { type?: string } | undefined)?.type,
    };
  });
}

function requestBodyOf(
  document: OpenApiDocument,
  body: unknown,
  pointer: string,
): OpenApiOperation['requestBody'] {
  if (!body) return undefined;
  const { value, pointer: at } = deref(document, body, pointer);
  const content =
    (value as { content?: Record<string, unknown>; required?: boolean }).content ?? {};
  if (!('application/json' in content)) return undefined;
  return {
    pointer: `${at}/content/application~1json/schema`,
    required: (value as { required?: boolean }).required ?? false,
  };
}

function responsesOf(
  document: OpenApiDocument,
  responses: unknown,
  pointer: string,
): Record<string, string | undefined> {
  const result: Record<string, string | undefined> = {};
  for (const [status, response] of Object.entries((responses ?? {}) as Record<string, unknown>)) {
    const { value, pointer: at } = deref(document, response, `${pointer}/${status}`);
    const content = (value as { content?: Record<string, unknown> }).content ?? {};
    result[status] =
      'application/json' in content ? `${at}/content/application~1json/schema` : undefined;
  }
  return result;
}

/** Follows `$ref`s to a value, returning it with the pointer it lives at. */
function deref(
  document: OpenApiDocument,
  value: unknown,
  pointer: string,
): { value: unknown; pointer: string } {
  let current = value;
  let at = pointer;
  while (
    typeof current === 'object' &&
    current !== null &&
    typeof (current as { $ref?: unknown }).$ref === 'string'
  ) {
    at = (current as { $ref: string }).$ref.replace(/^#/, '');
    current = at
      .split('/')
      .slice(1)
      .reduce<unknown>(
        (node, part) => (node as Record<string, unknown>)[unescapePointer(part)],
        document,
      );
  }
  return { value: current, pointer: at };
}

function escapePointer(part: string): string {
  return part.replace(/~/g, '~0').replace(/\//g, '~1');
}

function unescapePointer(part: string): string {
  return part.replace(/~1/g, '/').replace(/~0/g, '~');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The operation for a method and path; the template with the most literal segments wins. */
function matchOperation(spec: GitHubOpenApi, method: string, path: string) {
  let best: { operation: OpenApiOperation; values: string[] } | undefined;
  for (const operation of spec.operations) {
    if (operation.method !== method) continue;
    const match = operation.pattern.exec(path);
    if (!match) continue;
    if (!best || operation.literalSegments > best.operation.literalSegments) {
      best = { operation, values: match.slice(1).map((v) => decodeURIComponent(v)) };
    }
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// State: comments, faults, and what happened.

const BOT_USER_ID = 41898282;
let nextCommentId = 2_000_000_001;

class FakeState {
  readonly requests: RecordedRequest[] = [];
  readonly violations: Violation[] = [];
  readonly faults: Array<Fault & { remaining: number }>;
  private readonly issues = new Map<string, FakeIssueComment[]>();
  private seedClock = Date.parse('2024-01-01T00:00:00Z');
  /** Seeds need the server's URL for their links, so they are created on the first request. */
  private pendingSeeds: SeedComment[];
  private apiUrl = '';

  constructor(
    readonly options: GitHubFakeOptions,
    readonly spec: GitHubOpenApi,
  ) {
    this.faults = (options.faults ?? []).map((fault) => ({
      ...fault,
      remaining: fault.times ?? 1,
    }));
    this.pendingSeeds = options.comments ?? [];
  }

  seed(apiUrl: string): void {
    if (this.apiUrl) return;
    this.apiUrl = apiUrl;
    for (const seed of this.pendingSeeds) {
      this.seedClock += 60_000;
      const time = seed.createdAt ?? isoSeconds(this.seedClock);
      this.addComment(
        seed.owner,
        seed.repo,
        seed.issueNumber,
        seed.body,
        seed.login ?? 'octocat',
        time,
      );
    }
    this.pendingSeeds = [];
  }

  issueComments(owner: string, repo: string, issueNumber: number): FakeIssueComment[] {
    const key = `${owner}/${repo}#${issueNumber}`.toLowerCase();
    let list = this.issues.get(key);
    if (!list) {
      list = [];
      this.issues.set(key, list);
    }
    return list;
  }

  findComment(owner: string, repo: string, id: number): FakeIssueComment | undefined {
    const prefix = `${owner}/${repo}#`.toLowerCase();
    for (const [key, list] of this.issues) {
      if (!key.startsWith(prefix)) continue;
      const found = list.find((comment) => comment.id === id);
      if (found) return found;
    }
    return undefined;
  }

  deleteComment(owner: string, repo: string, id: number): boolean {
    const prefix = `${owner}/${repo}#`.toLowerCase();
    for (const [key, list] of this.issues) {
      const index = key.startsWith(prefix) ? list.findIndex((comment) => comment.id === id) : -1;
      if (index >= 0) {
        list.splice(index, 1);
        return true;
      }
    }
    return false;
  }

  addComment(
    owner: string,
    repo: string,
    issueNumber: number,
    body: string,
    login: string,
    time: string,
  ): FakeIssueComment {
    const id = nextCommentId++;
    const api = this.apiUrl;
    const comment: FakeIssueComment = {
      id,
      node_id: `IC_kwDOFake${id.toString(36)}`,
      url: `${api}/repos/${owner}/${repo}/issues/comments/${id}`,
      html_url: `https://github.com/${owner}/${repo}/pull/${issueNumber}#issuecomment-${id}`,
      issue_url: `${api}/repos/${owner}/${repo}/issues/${issueNumber}`,
      body,
      user: userObject(login, api),
      created_at: time,
      updated_at: time,
      author_association: login.endsWith('[bot]') ? 'NONE' : 'CONTRIBUTOR',
      performed_via_github_app: null,
      reactions: reactionRollup(`${api}/repos/${owner}/${repo}/issues/comments/${id}/reactions`),
    };
    this.issueComments(owner, repo, issueNumber).push(comment);
    return comment;
  }

  takeFault(operationId: string): Fault | undefined {
    const fault = this.faults.find((f) => f.operationId === operationId && f.remaining > 0);
    if (fault) fault.remaining -= 1;
    return fault;
  }
}

function userObject(login: string, api: string): Record<string, unknown> {
  const bot = login.endsWith('[bot]');
  const id = bot ? BOT_USER_ID : 583231;
  const users = `${api}/users/${encodeURIComponent(login)}`;
  return {
    login,
    id,
    node_id: bot ? 'MDM6Qm90NDE4OTgyODI=' : 'MDQ6VXNlcjU4MzIzMQ==',
    avatar_url: bot
      ? 'https://avatars.githubusercontent.com/in/15368?v=4'
      : `https://avatars.githubusercontent.com/u/${id}?v=4`,
    gravatar_id: '',
    url: users,
    html_url: bot ? 'https://github.com/apps/github-actions' : `https://github.com/${login}`,
    followers_url: `${users}/followers`,
    following_url: `${users}/following{/other_user}`,
    gists_url: `${users}/gists{/gist_id}`,
    starred_url: `${users}/starred{/owner}{/repo}`,
    subscriptions_url: `${users}/subscriptions`,
    organizations_url: `${users}/orgs`,
    repos_url: `${users}/repos`,
    events_url: `${users}/events{/privacy}`,
    received_events_url: `${users}/received_events`,
    type: bot ? 'Bot' : 'User',
    user_view_type: 'public',
    site_admin: false,
  };
}

function reactionRollup(url: string): Record<string, unknown> {
  return {
    url,
    total_count: 0,
    '+1': 0,
    '-1': 0,
    laugh: 0,
    hooray: 0,
    confused: 0,
    heart: 0,
    rocket: 0,
    eyes: 0,
  };
}

function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// ---------------------------------------------------------------------------------------------
// Request handling: match, validate, fault or handle, validate the answer, record.

async function handle(
  spec: GitHubOpenApi,
  state: FakeState,
  fake: GitHubFake,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const url = new URL(request.url ?? '/', `http://${request.headers.host ?? '127.0.0.1'}`);
  state.seed(url.origin);
  const method = (request.method ?? 'GET').toUpperCase();
  const rawBody = await readBody(request);
  const recorded: RecordedRequest = {
    method,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    body: parseBodyForRecord(rawBody),
    authorization: request.headers.authorization,
    status: 0,
  };
  state.requests.push(recorded);
  const violation = (kind: Violation['kind'], errors: string[], operationId?: string): void => {
    state.violations.push({ kind, method, path: url.pathname, operationId, errors });
  };
  const answer = (result: FakeResponse, operation?: OpenApiOperation): void => {
    recorded.status = result.status;
    if (operation) checkResponse(spec, operation, result, violation);
    send(response, withStandardHeaders(result));
  };

  const matched = matchOperation(spec, method, url.pathname);
  if (!matched) {
    violation('unknown-route', [
      `no operation in the OpenAPI description for ${method} ${url.pathname}`,
    ]);
    answer(errorResponse(404, 'Not Found', 'https://docs.github.com/rest'));
    return;
  }
  const { operation } = matched;
  recorded.operationId = operation.operationId;
  const invalid = (
    kind: Violation['kind'],
    status: number,
    message: string,
    errors: string[],
  ): void => {
    violation(kind, errors, operation.operationId);
    answer(errorResponse(status, message, operation.docsUrl), operation);
  };

  const token = state.options.token;
  if (
    token !== undefined &&
    ![`token ${token}`, `Bearer ${token}`].includes(request.headers.authorization ?? '')
  ) {
    invalid('auth', 401, 'Bad credentials', [
      `authorization header is ${JSON.stringify(request.headers.authorization)}`,
    ]);
    return;
  }
  const params: Record<string, unknown> = {};
  const pathErrors = checkPathParams(spec, operation, matched.values, params);
  if (pathErrors.length > 0) {
    invalid('path-params', 404, 'Not Found', pathErrors);
    return;
  }
  const queryErrors = checkQuery(spec, operation, url.searchParams, params);
  if (queryErrors.length > 0) {
    invalid('query', 400, 'Invalid query parameters', queryErrors);
    return;
  }
  const body = checkBody(spec, operation, rawBody);
  if ('status' in body) {
    invalid('body', body.status, body.message, body.errors);
    return;
  }

  const fault = state.takeFault(operation.operationId);
  if (fault) {
    answer(faultResponse(fault, operation), operation);
    return;
  }
  const handler =
    state.options.handlers?.[operation.operationId] ?? BUILT_IN_HANDLERS[operation.operationId];
  if (!handler) {
    violation(
      'unimplemented',
      [`the fake does not implement ${operation.operationId}`],
      operation.operationId,
    );
    answer({
      status: 501,
      body: { message: `Not implemented by the GitHub fake: ${operation.operationId}` },
    });
    return;
  }
  const result = handler({
    operationId: operation.operationId,
    params,
    body: body.value,
    url,
    fake,
  });
  if (result.status === 422)
    violation('body', [JSON.stringify(result.body)], operation.operationId);
  answer(result, operation);
}

function checkPathParams(
  spec: GitHubOpenApi,
  operation: OpenApiOperation,
  values: string[],
  params: Record<string, unknown>,
): string[] {
  const errors: string[] = [];
  operation.pathParamNames.forEach((name, index) => {
    const param = operation.parameters.find((p) => p.in === 'path' && p.name === name);
    const value = coerce(values[index] ?? '', param?.type);
    params[name] = value;
    if (param)
      errors.push(...spec.validate(param.schemaPointer, value).map((e) => `path ${name}: ${e}`));
  });
  return errors;
}

function checkQuery(
  spec: GitHubOpenApi,
  operation: OpenApiOperation,
  search: URLSearchParams,
  params: Record<string, unknown>,
): string[] {
  const errors: string[] = [];
  const known = operation.parameters.filter((p) => p.in === 'query');
  for (const name of new Set(search.keys())) {
    const param = known.find((p) => p.name === name);
    if (!param) {
      errors.push(`unknown query parameter ${name}`);
      continue;
    }
    const value = coerce(search.get(name) ?? '', param.type);
    params[name] = value;
    errors.push(...spec.validate(param.schemaPointer, value).map((e) => `query ${name}: ${e}`));
  }
  for (const param of known) {
    if (param.required && !search.has(param.name))
      errors.push(`missing required query parameter ${param.name}`);
  }
  return errors;
}

type BodyCheck = { value: unknown } | { status: number; message: string; errors: string[] };

function checkBody(spec: GitHubOpenApi, operation: OpenApiOperation, raw: string): BodyCheck {
  const expected = operation.requestBody;
  if (raw.trim() === '') {
    return expected?.required
      ? {
          status: 422,
          message: 'Invalid request.\n\nA request body is required.',
          errors: ['missing request body'],
        }
      : { value: undefined };
  }
  if (!expected)
    return {
      status: 400,
      message: 'This operation takes no body',
      errors: [`unexpected body: ${raw.slice(0, 200)}`],
    };
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return {
      status: 400,
      message: 'Problems parsing JSON',
      errors: [`body is not JSON: ${raw.slice(0, 200)}`],
    };
  }
  const errors = spec.validate(expected.pointer, value);
  return errors.length > 0
    ? { status: 422, message: `Invalid request.\n\n${errors.join('\n')}`, errors }
    : { value };
}

/** Query and path values arrive as strings; the spec types them. */
function coerce(value: string, type: string | undefined): unknown {
  if ((type === 'integer' || type === 'number') && /^-?\d+(\.\d+)?$/.test(value))
    return Number(value);
  if (type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}

function checkResponse(
  spec: GitHubOpenApi,
  operation: OpenApiOperation,
  result: FakeResponse,
  violation: (kind: Violation['kind'], errors: string[], operationId?: string) => void,
): void {
  const documented = String(result.status) in operation.responses;
  const pointer = operation.responses[String(result.status)];
  // Statuses the description does not list (a 502, a 403 on update) have no schema to hold to.
  if (!documented || !pointer || result.body === undefined) return;
  const errors = spec.validate(pointer, result.body);
  if (errors.length > 0) violation('response', errors, operation.operationId);
}

function errorResponse(status: number, message: string, documentationUrl: string): FakeResponse {
  return { status, body: { message, documentation_url: documentationUrl, status: String(status) } };
}

function faultResponse(fault: Fault, operation: OpenApiOperation): FakeResponse {
  const wait = fault.retryAfterSeconds ?? 1;
  switch (fault.kind) {
    case 'forbidden':
      return {
        ...errorResponse(403, 'Resource not accessible by integration', operation.docsUrl),
        headers: { 'x-accepted-github-permissions': 'issues=write; pull_requests=write' },
      };
    case 'not-found':
      return errorResponse(404, 'Not Found', operation.docsUrl);
    case 'server-error':
      return { status: 502, body: { message: 'Server Error' } };
    case 'rate-limit':
      return {
        ...errorResponse(
          403,
          'API rate limit exceeded for installation ID 1234567.',
          'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api',
        ),
        headers: {
          'x-ratelimit-limit': '5000',
          'x-ratelimit-remaining': '0',
          'x-ratelimit-used': '5000',
          'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + wait),
          'x-ratelimit-resource': 'core',
        },
      };
    case 'secondary-rate-limit':
      return {
        ...errorResponse(
          429,
          'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
          'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits',
        ),
        headers: { 'retry-after': String(wait) },
      };
  }
}

function withStandardHeaders(result: FakeResponse): FakeResponse {
  return {
    ...result,
    headers: {
      'x-github-api-version-selected': '2022-11-28',
      'x-github-request-id': `FAKE:${Math.random().toString(16).slice(2, 10).toUpperCase()}`,
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': '4999',
      'x-ratelimit-used': '1',
      'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + 3600),
      'x-ratelimit-resource': 'core',
      ...result.headers,
    },
  };
}

function send(response: ServerResponse, result: FakeResponse): void {
  const payload = result.body === undefined ? '' : JSON.stringify(result.body);
  response.writeHead(result.status, {
    ...(payload ? { 'content-type': 'application/json; charset=utf-8' } : {}),
    'content-length': Buffer.byteLength(payload),
    ...result.headers,
  });
  response.end(payload);
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseBodyForRecord(raw: string): unknown {
  if (raw === '') return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}

// ---------------------------------------------------------------------------------------------
// Built-in operations: issue comments.

/** GitHub's limit on a comment body, in characters. */
const MAX_COMMENT_CHARS = 65_536;

const BUILT_IN_HANDLERS: Record<string, FakeHandler> = {
  'users/get-authenticated': ({ url, fake }) => {
    const login = stateOf(fake).options.login ?? 'github-actions[bot]';
    const documentation = 'https://docs.github.com/rest/users/users#get-the-authenticated-user';
    if (login.endsWith('[bot]'))
      return errorResponse(403, 'Resource not accessible by integration', documentation);
    const profile = {
      ...userObject(login, url.origin),
      ...{ name: null, company: null, blog: '', location: null, email: null, hireable: null },
      ...{ bio: null, public_repos: 3, public_gists: 0, followers: 1, following: 0 },
      created_at: '2020-01-01T00:00:00Z',
      updated_at: '2024-01-01T00:00:00Z',
    };
    return { status: 200, body: profile };
  },
  'pulls/get': ({ params, fake }) => {
    const state = stateOf(fake);
    const pull = state.options.pulls?.find(
      (p) => p.owner === params.owner && p.repo === params.repo && p.number === params.pull_number,
    );
    if (!pull) return errorResponse(404, 'Not Found', 'https://docs.github.com/rest/pulls/pulls');
    const example = (state.spec.document.components.examples as Record<string, { value: unknown }>)[
      'pull-request'
    ]?.value as { head: { repo: Record<string, unknown> }; base: { repo: unknown } };
    const copy = structuredClone(example);
    const headRepository = pull.headRepository ?? `${pull.owner}/${pull.repo}`;
    return {
      status: 200,
      body: {
        ...copy,
        // GitHub's example lists a team without the `type` its own schema requires.
        requested_teams: [],
        number: pull.number,
        head: {
          ...copy.head,
          sha: pull.headSha,
          repo: {
            ...copy.head.repo,
            full_name: headRepository,
            fork: headRepository !== `${pull.owner}/${pull.repo}`,
          },
        },
      },
    };
  },
  'issues/list-comments': ({ params, url, fake }) => {
    const all = stateOf(fake).issueComments(
      String(params.owner),
      String(params.repo),
      Number(params.issue_number),
    );
    const since = typeof params.since === 'string' ? Date.parse(params.since) : undefined;
    const filtered =
      since === undefined ? all : all.filter((c) => Date.parse(c.updated_at) >= since);
    const perPage = Math.min(100, Math.max(1, Number(params.per_page ?? 30)));
    const page = Math.max(1, Number(params.page ?? 1));
    const items = filtered.slice((page - 1) * perPage, page * perPage);
    const link = linkHeader(url, page, Math.max(1, Math.ceil(filtered.length / perPage)));
    return { status: 200, body: items, ...(link ? { headers: { link } } : {}) };
  },
  'issues/get-comment': ({ params, fake }) => {
    const comment = stateOf(fake).findComment(
      String(params.owner),
      String(params.repo),
      Number(params.comment_id),
    );
    return comment
      ? { status: 200, body: comment }
      : errorResponse(404, 'Not Found', docs('get-an-issue-comment'));
  },
  'issues/create-comment': ({ params, body, fake }) => {
    const text = (body as { body: string }).body;
    if ([...text].length > MAX_COMMENT_CHARS) return tooLong(docs('create-an-issue-comment'));
    const state = stateOf(fake);
    const login = state.options.login ?? 'github-actions[bot]';
    const owner = String(params.owner);
    const repo = String(params.repo);
    const comment = state.addComment(
      owner,
      repo,
      Number(params.issue_number),
      text,
      login,
      isoSeconds(Date.now()),
    );
    return { status: 201, body: comment, headers: { location: comment.url } };
  },
  'issues/update-comment': ({ params, body, fake }) => {
    const text = (body as { body: string }).body;
    if ([...text].length > MAX_COMMENT_CHARS) return tooLong(docs('update-an-issue-comment'));
    const comment = stateOf(fake).findComment(
      String(params.owner),
      String(params.repo),
      Number(params.comment_id),
    );
    if (!comment) return errorResponse(404, 'Not Found', docs('update-an-issue-comment'));
    comment.body = text;
    comment.updated_at = isoSeconds(Date.now());
    return { status: 200, body: comment };
  },
  'issues/delete-comment': ({ params, fake }) => {
    const deleted = stateOf(fake).deleteComment(
      String(params.owner),
      String(params.repo),
      Number(params.comment_id),
    );
    return deleted
      ? { status: 204 }
      : errorResponse(404, 'Not Found', docs('delete-an-issue-comment'));
  },
};

const states = new WeakMap<GitHubFake, FakeState>();

function stateOf(fake: GitHubFake): FakeState {
  const state = states.get(fake);
  if (!state) throw new Error('not a fake started by startGitHubFake');
  return state;
}

function docs(anchor: string): string {
  return `https://docs.github.com/rest/issues/comments#${anchor}`;
}

function tooLong(documentationUrl: string): FakeResponse {
  return {
    status: 422,
    body: {
      message: 'Validation Failed',
      errors: [
        {
          resource: 'IssueComment',
          code: 'custom',
          field: 'body',
          message: `body is too long (maximum is ${MAX_COMMENT_CHARS} characters)`,
        },
      ],
      documentation_url: documentationUrl,
      status: '422',
    },
  };
}

/** GitHub's pagination header: prev, next, last and first, each present only when it applies. */
function linkHeader(url: URL, page: number, lastPage: number): string | undefined {
  if (lastPage <= 1 && page <= 1) return undefined;
  const at = (n: number): string => {
    const target = new URL(url);
    target.searchParams.set('page', String(n));
    return `<${target.toString()}>`;
  };
  const links: string[] = [];
  if (page > 1) links.push(`${at(Math.min(page - 1, lastPage))}; rel="prev"`);
  if (page < lastPage) links.push(`${at(page + 1)}; rel="next"`, `${at(lastPage)}; rel="last"`);
  if (page > 1) links.push(`${at(1)}; rel="first"`);
  return links.join(', ');
}
