/**
 * A fake GitHub Actions artifact service on 127.0.0.1, for the REAL `@actions/artifact` library (6):
 * the Twirp JSON `ArtifactService` an upload calls, the blob storage its signed URLs point at,
 * and, through `githubHandlers` plugged into the GitHub API fake (github-fake.ts), the two REST
 * operations a download from another run uses. Uploads and downloads thus cross runs the way they
 * do on GitHub: a `pull_request` run uploads with its runtime token, a `workflow_run` run lists
 * and downloads with a repository token.
 *
 *   const store = await startArtifactServiceFake();
 *   const github = await startGitHubFake({ handlers: store.githubHandlers });
 *   spawn(..., { env: { ...store.runEnv(1001), GITHUB_API_URL: github.url } })   // uploads
 *   store.artifacts()                                  // [{ runId: 1001, name, content, … }]
 *
 * What it emulates:
 * - `POST /twirp/github.actions.results.api.v1.ArtifactService/{CreateArtifact,FinalizeArtifact}`
 *   with `Authorization: Bearer <runtime token>`: a JWT whose `scp` claim holds
 *   `Actions.Results:<run backend id>:<job backend id>` (the library reads the ids from it), proto
 *   field names in the JSON, Twirp errors. A name is unique within a run (409 `already_exists`);
 *   an artifact is listed only once finalized, with the size the upload says.
 * - Blobs at signed URLs: block-blob uploads (blob-storage-fake.ts); downloads answer with the
 *   artifact's content type and `content-disposition: attachment; filename=<name>`.
 * - REST: `actions/list-workflow-run-artifacts` (with `name` filter and paging) and
 *   `actions/download-artifact` (302 to the blob's signed download URL).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  blobDownload,
  blobError,
  blobUpload,
  json,
  readBody,
  twirpError,
  type BlobEntry,
} from './blob-storage-fake.js';
import type { FakeHandler, FakeResponse } from './github-fake.js';

export const ARTIFACT_TWIRP_PREFIX = '/twirp/github.actions.results.api.v1.ArtifactService/';

export interface ArtifactView {
  id: number;
  runId: number;
  name: string;
  size: number;
  finalized: boolean;
  mimeType: string;
  content?: Buffer;
}

export interface RecordedArtifactRequest {
  method: string;
  path: string;
  /** A Twirp method name, `BlobUpload` or `BlobDownload`. */
  operation?: string;
  status: number;
}

export interface ArtifactServiceFake {
  /** `http://127.0.0.1:<port>/` (ACTIONS_RESULTS_URL). */
  url: string;
  /** The environment the runner gives a step of workflow run `runId`: results URL, runtime token. */
  runEnv(runId: number): { ACTIONS_RESULTS_URL: string; ACTIONS_RUNTIME_TOKEN: string };
  /** REST operations for startGitHubFake({ handlers }). */
  githubHandlers: Record<string, FakeHandler>;
  artifacts(): ArtifactView[];
  requests: RecordedArtifactRequest[];
  close(): Promise<void>;
}

interface Artifact extends BlobEntry {
  runId: number;
  name: string;
  mimeType: string;
  size: number;
  uploadSig: string;
  downloadSig: string;
  createdAt: string;
}

interface Run {
  id: number;
  backendRunId: string;
  backendJobId: string;
  token: string;
}

export async function startArtifactServiceFake(): Promise<ArtifactServiceFake> {
  const state = new ArtifactState();
  const server = createServer((request, response) => {
    handle(state, request, response).catch((error: unknown) => {
      if (!response.headersSent) twirpError(response, 500, 'internal', `fake crashed: ${error}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${state.baseUrl}/`,
    runEnv: (runId) => ({
      ACTIONS_RESULTS_URL: `${state.baseUrl}/`,
      ACTIONS_RUNTIME_TOKEN: state.run(runId).token,
    }),
    githubHandlers: restHandlers(state),
    artifacts: () =>
      state.artifacts.map(({ id, runId, name, size, finalized, mimeType, blob }) => ({
        ...{ id, runId, name, size, finalized, mimeType },
        ...(blob ? { content: blob } : {}),
      })),
    requests: state.requests,
    close: () => closeServer(server),
  };
}

class ArtifactState {
  baseUrl = '';
  readonly runs: Run[] = [];
  readonly artifacts: Artifact[] = [];
  readonly requests: RecordedArtifactRequest[] = [];
  private nextId = 7_000_001;

  run(runId: number): Run {
    let run = this.runs.find((r) => r.id === runId);
    if (!run) {
      const backendRunId = uuid();
      const backendJobId = uuid();
      const token = unsignedJwt({
        scp: `Actions.ExampleScope Actions.Results:${backendRunId}:${backendJobId}`,
        iss: 'vstoken.actions.githubusercontent.com',
      });
      run = { id: runId, backendRunId, backendJobId, token };
      this.runs.push(run);
    }
    return run;
  }

  create(run: Run, name: string, mimeType: string): Artifact {
    const artifact: Artifact = {
      id: this.nextId++,
      runId: run.id,
      name,
      mimeType,
      size: 0,
      finalized: false,
      uploadSig: randomBytes(12).toString('hex'),
      downloadSig: randomBytes(12).toString('hex'),
      createdAt: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      blocks: new Map(),
    };
    this.artifacts.push(artifact);
    return artifact;
  }

  blobUrl(artifact: Artifact, sig: string): string {
    return `${this.baseUrl}/artifacts/${artifact.id}?sv=2024-11-04&sr=b&sig=${sig}`;
  }
}

async function handle(
  state: ArtifactState,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const url = new URL(request.url ?? '/', state.baseUrl);
  const method = request.method ?? 'GET';
  const body = await readBody(request);
  const recorded: RecordedArtifactRequest = { method, path: url.pathname, status: 0 };
  state.requests.push(recorded);
  response.on('finish', () => (recorded.status = response.statusCode));
  if (url.pathname.startsWith(ARTIFACT_TWIRP_PREFIX)) {
    recorded.operation = url.pathname.slice(ARTIFACT_TWIRP_PREFIX.length);
    const token = (request.headers.authorization ?? '').replace(/^Bearer /, '');
    const run = state.runs.find((r) => r.token === token);
    if (!run) return twirpError(response, 401, 'unauthenticated', 'unknown runtime token');
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
    } catch {
      return twirpError(response, 400, 'malformed', 'the request body is not JSON');
    }
    return twirp(state, run, recorded.operation, parsed, response);
  }
  const match = /^\/artifacts\/(\d+)$/.exec(url.pathname);
  const artifact = match ? state.artifacts.find((a) => a.id === Number(match[1])) : undefined;
  recorded.operation = method === 'PUT' ? 'BlobUpload' : 'BlobDownload';
  if (!artifact) return blobError(response, 404, 'BlobNotFound', 'The blob does not exist.');
  const sig = url.searchParams.get('sig');
  if (sig !== (method === 'PUT' ? artifact.uploadSig : artifact.downloadSig))
    return blobError(response, 403, 'AuthenticationFailed', 'Signature did not match.');
  if (method === 'PUT') return blobUpload(artifact, url, request, body, response);
  if (method !== 'GET' && method !== 'HEAD')
    return blobError(response, 405, 'UnsupportedHttpVerb', `The blob doesn't support ${method}.`);
  blobDownload(artifact, request, method, response, {
    'content-type': artifact.mimeType,
    'content-disposition': `attachment; filename=${artifact.name}`,
  });
}

function twirp(
  state: ArtifactState,
  run: Run,
  operation: string,
  body: Record<string, unknown>,
  response: ServerResponse,
): void {
  if (
    body.workflow_run_backend_id !== run.backendRunId ||
    body.workflow_job_run_backend_id !== run.backendJobId
  )
    return twirpError(response, 400, 'invalid_argument', 'backend ids do not match the token');
  const name = typeof body.name === 'string' ? body.name : '';
  if (name === '') return twirpError(response, 400, 'invalid_argument', 'name is required');
  const existing = state.artifacts.find((a) => a.runId === run.id && a.name === name);
  switch (operation) {
    case 'CreateArtifact': {
      if (existing)
        return twirpError(response, 409, 'already_exists', `artifact ${name} already exists`);
      const mime = typeof body.mime_type === 'string' ? body.mime_type : 'application/zip';
      const artifact = state.create(run, name, mime);
      return json(response, 200, {
        ok: true,
        signed_upload_url: state.blobUrl(artifact, artifact.uploadSig),
      });
    }
    case 'FinalizeArtifact': {
      if (!existing || existing.finalized)
        return twirpError(response, 404, 'not_found', `no artifact ${name} being uploaded`);
      const size = Number(body.size ?? 0);
      if (existing.blob === undefined || existing.blob.length !== size)
        return json(response, 200, { ok: false });
      existing.size = size;
      existing.finalized = true;
      return json(response, 200, { ok: true, artifact_id: String(existing.id) });
    }
    default:
      return twirpError(response, 404, 'bad_route', `no handler for ${operation}`);
  }
}

function restHandlers(state: ArtifactState): Record<string, FakeHandler> {
  return {
    'actions/list-workflow-run-artifacts': ({ params, url }) => {
      const runId = Number(params.run_id);
      const named = typeof params.name === 'string' ? params.name : undefined;
      const all = state.artifacts
        .filter(
          (a) => a.finalized && a.runId === runId && (named === undefined || a.name === named),
        )
        .map((a) => restArtifact(a, url.origin, String(params.owner), String(params.repo)));
      const perPage = Math.min(100, Number(params.per_page ?? 30));
      const page = Math.max(1, Number(params.page ?? 1));
      const artifacts = all.slice((page - 1) * perPage, page * perPage);
      return { status: 200, body: { total_count: all.length, artifacts } };
    },
    'actions/download-artifact': ({ params }): FakeResponse => {
      const artifact = state.artifacts.find(
        (a) => a.finalized && a.id === Number(params.artifact_id),
      );
      if (!artifact || params.archive_format !== 'zip')
        return { status: 404, body: { message: 'Not Found', status: '404' } };
      return { status: 302, headers: { location: state.blobUrl(artifact, artifact.downloadSig) } };
    },
  };
}

function restArtifact(
  artifact: Artifact,
  api: string,
  owner: string,
  repo: string,
): Record<string, unknown> {
  const self = `${api}/repos/${owner}/${repo}/actions/artifacts/${artifact.id}`;
  return {
    id: artifact.id,
    node_id: `MDg6QXJ0aWZhY3Q${artifact.id}`,
    name: artifact.name,
    size_in_bytes: artifact.size,
    url: self,
    archive_download_url: `${self}/zip`,
    expired: false,
    created_at: artifact.createdAt,
    updated_at: artifact.createdAt,
    expires_at: new Date(Date.parse(artifact.createdAt) + 86_400_000).toISOString(),
    workflow_run: { id: artifact.runId, repository_id: 42, head_repository_id: 43 },
  };
}

function uuid(): string {
  const hex = randomBytes(16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A JWT the library can decode (it never checks the signature; the fake checks the token). */
function unsignedJwt(claims: Record<string, unknown>): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ typ: 'JWT', alg: 'RS256' })}.${part(claims)}.${randomBytes(16).toString('base64url')}`;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
