/**
 * A fake GitHub Actions cache service (v2) on 127.0.0.1, for the REAL `@actions/cache` library: the
 * Twirp JSON `CacheService` it calls and the blob storage its signed URLs point at. It is a real
 * HTTP server, so the code under test runs unchanged, in-process or spawned as `node dist/index.js`
 * with the environment in `fake.env`:
 *
 *   const fake = await startCacheServiceFake();
 *   Object.assign(process.env, fake.env, { RUNNER_TEMP: tmp });   // or spawn(..., { env: {...fake.env} })
 *   await cache.saveCache([dir], 'key-1');
 *   expect(fake.entries().map((e) => e.key)).toEqual(['key-1']);
 *   fake.addFault({ operation: 'GetCacheEntryDownloadURL', kind: 'server-error' });
 *   await fake.setDown('refused');                                  // connection refused until setDown(false)
 *   await fake.close();
 *
 * What it emulates, as @actions/cache 6 and @azure/storage-blob 12 use it:
 * - `POST /twirp/github.actions.results.api.v1.CacheService/{CreateCacheEntry,
 *   FinalizeCacheEntryUpload,GetCacheEntryDownloadURL}` with `Authorization: Bearer <token>`, JSON
 *   bodies with proto field names (`restore_keys`, `size_bytes`), Twirp errors
 *   (`{"code":"already_exists","msg":…}` with the matching HTTP status).
 * - Entries are immutable: creating a key + version that exists answers 409 `already_exists`; an
 *   entry is visible only after `FinalizeCacheEntryUpload`, and only to lookups of the same version
 *   (the library's hash of paths + compression method).
 * - Lookup as GitHub documents it: the key, exact then as a prefix (newest first), then each restore
 *   key the same way. Branch scopes are not emulated: every entry is visible to every run.
 * - Blobs at signed URLs (`/devstoreaccount1/actions-cache/<id>?sig=…`, path style as for Azurite):
 *   a single `PUT` with `x-ms-blob-type: BlockBlob`, or `PUT ?comp=block&blockid=…` then
 *   `PUT ?comp=blocklist` (XML); `GET` and `HEAD`, with `Range: bytes=a-b` (206). The upload and
 *   the download URL carry different signatures; a wrong or missing one answers 403.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  blobDownload,
  blobError,
  blobUpload,
  json,
  readBody,
  twirpError,
  type BlobEntry,
} from './blob-storage-fake.js';

// ---------------------------------------------------------------------------------------------
// Public API

export const TWIRP_PREFIX = '/twirp/github.actions.results.api.v1.CacheService/';

export type CacheOperation =
  | 'CreateCacheEntry'
  | 'FinalizeCacheEntryUpload'
  | 'GetCacheEntryDownloadURL'
  | 'BlobUpload'
  | 'BlobDownload';

/**
 * A scripted failure for the next `times` requests (default 1; `Infinity` for always) of one
 * operation, or of all (`'*'`):
 * - `server-error`: 500 (the Twirp client retries 500/502/503/504 five times, 3 s apart and growing)
 * - `unavailable`: 503
 * - `bad-request`: 400 (not retried)
 * - `unauthorized`: 401 (not retried)
 * - `reset`: the connection is destroyed without an answer (ECONNRESET: not retried)
 */
export interface CacheFault {
  operation: CacheOperation | '*';
  kind: 'server-error' | 'unavailable' | 'bad-request' | 'unauthorized' | 'reset';
  times?: number;
}

export interface CacheEntryView {
  id: number;
  key: string;
  version: string;
  /** Bytes of the uploaded archive (a tar, zstd- or gzip-compressed). */
  size: number;
  finalized: boolean;
  /** Order of creation; lookups prefer the highest among prefix matches. */
  sequence: number;
}

export interface RecordedCacheRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  operation?: CacheOperation;
  /** The Twirp request body, parsed; undefined for blob requests. */
  body?: unknown;
  status: number;
}

export interface CacheServiceFake {
  /** `http://127.0.0.1:<port>/` (the value of ACTIONS_RESULTS_URL). */
  url: string;
  token: string;
  /** What @actions/cache needs to talk to this fake (v2 service). Set RUNNER_TEMP too. */
  readonly env: {
    ACTIONS_CACHE_SERVICE_V2: string;
    ACTIONS_RESULTS_URL: string;
    ACTIONS_RUNTIME_TOKEN: string;
  };
  requests: RecordedCacheRequest[];
  entries(): CacheEntryView[];
  /** The uploaded archive of a finalized entry. */
  archive(key: string): Buffer | undefined;
  /** Drops every entry (as if evicted). */
  clear(): void;
  addFault(fault: CacheFault): void;
  /**
   * `reset`: every connection is accepted and destroyed at once; `refused`: the port stops
   * listening (ECONNREFUSED); `false`: back to normal on the same port.
   */
  setDown(mode: 'reset' | 'refused' | false): Promise<void>;
  close(): Promise<void>;
}

export interface CacheServiceFakeOptions {
  /** The runtime token requests must carry; default a random one. */
  token?: string;
}

export async function startCacheServiceFake(
  options: CacheServiceFakeOptions = {},
): Promise<CacheServiceFake> {
  const state = new FakeState(options.token ?? `fake-runtime-${randomBytes(8).toString('hex')}`);
  const sockets = new Set<Socket>();
  const server = createServer((request, response) => {
    handle(state, request, response).catch((error: unknown) => {
      if (!response.headersSent) {
        twirpError(response, 500, 'internal', `fake crashed: ${String(error)}`);
      }
    });
  });
  server.on('connection', (socket: Socket) => {
    if (state.down === 'reset') {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await listen(server, 0);
  const { port } = server.address() as AddressInfo;
  state.baseUrl = `http://127.0.0.1:${port}`;
  const closeListener = async (): Promise<void> => {
    if (!server.listening) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  return {
    url: `${state.baseUrl}/`,
    token: state.token,
    env: {
      ACTIONS_CACHE_SERVICE_V2: 'true',
      ACTIONS_RESULTS_URL: `${state.baseUrl}/`,
      ACTIONS_RUNTIME_TOKEN: state.token,
    },
    requests: state.requests,
    entries: () =>
      state.entries.map(({ id, key, version, blob, finalized, sequence }) => ({
        id,
        key,
        version,
        size: blob?.length ?? 0,
        finalized,
        sequence,
      })),
    archive: (key) => state.entries.find((e) => e.key === key && e.finalized)?.blob,
    clear: () => {
      state.entries.length = 0;
    },
    addFault: (fault) => state.faults.push({ ...fault, remaining: fault.times ?? 1 }),
    setDown: async (mode) => {
      state.down = mode === false ? undefined : mode;
      if (mode === 'refused') await closeListener();
      if (mode !== 'refused' && !server.listening) await listen(server, port);
    },
    close: closeListener,
  };
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

// ---------------------------------------------------------------------------------------------
// State

interface Entry extends BlobEntry {
  key: string;
  version: string;
  sequence: number;
  uploadSig: string;
  downloadSig: string;
}

class FakeState {
  baseUrl = '';
  readonly entries: Entry[] = [];
  readonly requests: RecordedCacheRequest[] = [];
  readonly faults: Array<CacheFault & { remaining: number }> = [];
  down: 'reset' | 'refused' | undefined;
  private nextId = 1;

  constructor(readonly token: string) {}

  create(key: string, version: string): Entry {
    const id = this.nextId++;
    const entry: Entry = {
      id,
      key,
      version,
      finalized: false,
      sequence: id,
      uploadSig: randomBytes(12).toString('hex'),
      downloadSig: randomBytes(12).toString('hex'),
      blocks: new Map(),
    };
    this.entries.push(entry);
    return entry;
  }

  blobUrl(entry: Entry, sig: string, permissions: string): string {
    return `${this.baseUrl}/devstoreaccount1/actions-cache/${entry.id}?sv=2024-11-04&sr=b&sp=${permissions}&sig=${sig}`;
  }

  /** The key exact then as a prefix (newest first), then each restore key the same way. */
  lookup(keys: string[], version: string): Entry | undefined {
    const visible = this.entries.filter((e) => e.finalized && e.version === version);
    for (const key of keys) {
      const exact = visible.find((e) => e.key === key);
      if (exact) return exact;
      const prefixed = visible
        .filter((e) => e.key.startsWith(key))
        .sort((a, b) => b.sequence - a.sequence);
      if (prefixed[0]) return prefixed[0];
    }
    return undefined;
  }

  takeFault(operation: CacheOperation): CacheFault | undefined {
    const fault = this.faults.find(
      (f) => f.remaining > 0 && (f.operation === operation || f.operation === '*'),
    );
    if (fault) fault.remaining -= 1;
    return fault;
  }
}

// ---------------------------------------------------------------------------------------------
// Requests

const BLOB_PATH = /^\/devstoreaccount1\/actions-cache\/(\d+)$/;

async function handle(
  state: FakeState,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const url = new URL(request.url ?? '/', state.baseUrl);
  const method = request.method ?? 'GET';
  const body = await readBody(request);
  const record = (
    operation: CacheOperation | undefined,
    parsed?: unknown,
  ): RecordedCacheRequest => {
    const entry: RecordedCacheRequest = {
      method,
      path: url.pathname,
      operation,
      body: parsed,
      status: 0,
    };
    state.requests.push(entry);
    response.on('finish', () => (entry.status = response.statusCode));
    response.on('close', () => (entry.status ||= -1));
    return entry;
  };
  if (url.pathname.startsWith(TWIRP_PREFIX)) {
    const operation = url.pathname.slice(TWIRP_PREFIX.length);
    if (!isTwirpOperation(operation)) {
      record(undefined);
      twirpError(response, 404, 'bad_route', `no handler for path ${url.pathname}`);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8') || '{}');
    } catch {
      record(operation, body.toString('utf8'));
      twirpError(response, 400, 'malformed', 'the request body is not JSON');
      return;
    }
    record(operation, parsed);
    if (applyFault(state.takeFault(operation), response, 'twirp')) return;
    if (method !== 'POST') {
      twirpError(response, 400, 'bad_route', `unsupported method ${method} (only POST is allowed)`);
      return;
    }
    if (request.headers.authorization !== `Bearer ${state.token}`) {
      twirpError(response, 401, 'unauthenticated', 'the runtime token is missing or wrong');
      return;
    }
    twirp(state, operation, parsed as Record<string, unknown>, response);
    return;
  }
  const blob = BLOB_PATH.exec(url.pathname);
  const entry = blob ? state.entries.find((e) => e.id === Number(blob[1])) : undefined;
  const upload = method === 'PUT';
  const operation: CacheOperation = upload ? 'BlobUpload' : 'BlobDownload';
  record(blob ? operation : undefined);
  if (!blob || !entry) {
    blobError(response, 404, 'BlobNotFound', 'The specified blob does not exist.');
    return;
  }
  if (applyFault(state.takeFault(operation), response, 'blob')) return;
  const sig = url.searchParams.get('sig');
  if (sig !== (upload ? entry.uploadSig : entry.downloadSig)) {
    blobError(response, 403, 'AuthenticationFailed', 'Signature did not match.');
    return;
  }
  if (upload) blobUpload(entry, url, request, body, response);
  else if (method === 'GET' || method === 'HEAD') blobDownload(entry, request, method, response);
  else blobError(response, 405, 'UnsupportedHttpVerb', `The resource doesn't support ${method}.`);
}

function applyFault(
  fault: CacheFault | undefined,
  response: ServerResponse,
  style: 'twirp' | 'blob',
): boolean {
  if (!fault) return false;
  const answer = (status: number, code: string, message: string): void =>
    style === 'twirp'
      ? twirpError(response, status, code, message)
      : blobError(response, status, code, message);
  switch (fault.kind) {
    case 'reset':
      response.socket?.destroy();
      break;
    case 'server-error':
      answer(500, 'internal', 'injected fault: internal error');
      break;
    case 'unavailable':
      answer(503, 'unavailable', 'injected fault: service unavailable');
      break;
    case 'bad-request':
      answer(400, 'invalid_argument', 'injected fault: bad request');
      break;
    case 'unauthorized':
      answer(401, 'unauthenticated', 'injected fault: unauthenticated');
      break;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Twirp CacheService

const TWIRP_OPERATIONS = [
  'CreateCacheEntry',
  'FinalizeCacheEntryUpload',
  'GetCacheEntryDownloadURL',
] as const;
type TwirpOperation = (typeof TWIRP_OPERATIONS)[number];

function isTwirpOperation(name: string): name is TwirpOperation {
  return (TWIRP_OPERATIONS as readonly string[]).includes(name);
}

function twirp(
  state: FakeState,
  operation: TwirpOperation,
  body: Record<string, unknown>,
  response: ServerResponse,
): void {
  const key = typeof body.key === 'string' ? body.key : '';
  const version = typeof body.version === 'string' ? body.version : '';
  if (key === '' || version === '') {
    twirpError(response, 400, 'invalid_argument', 'key and version are required');
    return;
  }
  switch (operation) {
    case 'CreateCacheEntry': {
      if (state.entries.some((e) => e.key === key && e.version === version)) {
        twirpError(
          response,
          409,
          'already_exists',
          'cache entry with the same key, version, and scope already exists',
        );
        return;
      }
      const entry = state.create(key, version);
      json(response, 200, {
        ok: true,
        signed_upload_url: state.blobUrl(entry, entry.uploadSig, 'cw'),
      });
      return;
    }
    case 'FinalizeCacheEntryUpload': {
      const entry = state.entries.find(
        (e) => e.key === key && e.version === version && !e.finalized,
      );
      if (!entry) {
        twirpError(response, 404, 'not_found', `no cache entry reserved for key ${key}`);
        return;
      }
      const size = Number(body.size_bytes ?? 0);
      if (entry.blob === undefined || entry.blob.length !== size) {
        json(response, 200, {
          ok: false,
          message: `uploaded ${entry.blob?.length ?? 0} bytes, finalize says ${size}`,
        });
        return;
      }
      entry.finalized = true;
      json(response, 200, { ok: true, entry_id: String(entry.id) });
      return;
    }
    case 'GetCacheEntryDownloadURL': {
      const restoreKeys = Array.isArray(body.restore_keys)
        ? body.restore_keys.filter((k): k is string => typeof k === 'string')
        : [];
      const entry = state.lookup([key, ...restoreKeys], version);
      if (!entry) {
        json(response, 200, { ok: false });
        return;
      }
      json(response, 200, {
        ok: true,
        signed_download_url: state.blobUrl(entry, entry.downloadSig, 'r'),
        matched_key: entry.key,
      });
      return;
    }
  }
}
