/**
 * Azure Blob Storage as the Actions services' signed URLs use it, for the loopback fakes of the
 * cache service (cache-service-fake.ts) and the artifact service (artifact-service-fake.ts): the
 * block-blob uploads @azure/storage-blob makes (one `PUT` with `x-ms-blob-type: BlockBlob`, or
 * `PUT ?comp=block&blockid=…` then `PUT ?comp=blocklist`), downloads with `Range`, Azure's XML
 * errors, and the Twirp JSON answers of the services in front of it.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** One blob: staged blocks until the block list is committed, then immutable once finalized. */
export interface BlobEntry {
  id: number;
  finalized: boolean;
  blob?: Buffer;
  /** Staged blocks by block id (base64), until the block list is committed. */
  blocks: Map<string, Buffer>;
}

export function json(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

export function twirpError(
  response: ServerResponse,
  status: number,
  code: string,
  msg: string,
): void {
  json(response, status, { code, msg });
}

export function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

export function blobHeaders(): Record<string, string> {
  return {
    'x-ms-request-id': randomBytes(8).toString('hex'),
    'x-ms-version': '2025-01-05',
    date: new Date().toUTCString(),
  };
}

export function blobError(
  response: ServerResponse,
  status: number,
  code: string,
  message: string,
): void {
  const text = `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  response.writeHead(status, {
    ...blobHeaders(),
    'x-ms-error-code': code,
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

export function created(
  response: ServerResponse,
  entry: BlobEntry,
  extra: Record<string, string> = {},
): void {
  response.writeHead(201, {
    ...blobHeaders(),
    etag: `"0x${entry.id.toString(16).padStart(8, '0')}"`,
    'last-modified': new Date().toUTCString(),
    'x-ms-request-server-encrypted': 'true',
    'content-length': '0',
    ...extra,
  });
  response.end();
}

export function blobUpload(
  entry: BlobEntry,
  url: URL,
  request: IncomingMessage,
  body: Buffer,
  response: ServerResponse,
): void {
  if (entry.finalized) {
    blobError(response, 409, 'BlobImmutable', 'The entry is finalized; its blob cannot change.');
    return;
  }
  const comp = url.searchParams.get('comp');
  if (comp === 'block') {
    const blockId = url.searchParams.get('blockid');
    if (!blockId) {
      blobError(response, 400, 'InvalidQueryParameterValue', 'blockid is required.');
      return;
    }
    entry.blocks.set(blockId, body);
    created(response, entry);
    return;
  }
  if (comp === 'blocklist') {
    const ids = [
      ...body.toString('utf8').matchAll(/<(Latest|Committed|Uncommitted)>([^<]*)<\//g),
    ].map((m) => m[2] ?? '');
    const parts = ids.map((id) => entry.blocks.get(id));
    if (ids.length === 0 || parts.some((part) => part === undefined)) {
      blobError(response, 400, 'InvalidBlockList', 'The specified block list is invalid.');
      return;
    }
    entry.blob = Buffer.concat(parts as Buffer[]);
    entry.blocks.clear();
    created(response, entry);
    return;
  }
  if (comp !== null) {
    blobError(response, 400, 'InvalidQueryParameterValue', `comp=${comp} is not emulated.`);
    return;
  }
  if (request.headers['x-ms-blob-type'] !== 'BlockBlob') {
    blobError(response, 400, 'MissingRequiredHeader', 'x-ms-blob-type: BlockBlob is required.');
    return;
  }
  entry.blob = body;
  created(response, entry, { 'content-md5': '' });
}

/** `headers` adds or replaces answer headers (an artifact's content type and file name). */
export function blobDownload(
  entry: BlobEntry,
  request: IncomingMessage,
  method: 'GET' | 'HEAD',
  response: ServerResponse,
  extraHeaders: Record<string, string> = {},
): void {
  const blob = entry.blob;
  if (!entry.finalized || blob === undefined) {
    blobError(response, 404, 'BlobNotFound', 'The specified blob does not exist.');
    return;
  }
  const headers: Record<string, string> = {
    ...blobHeaders(),
    'content-type': 'application/octet-stream',
    'accept-ranges': 'bytes',
    etag: `"0x${entry.id.toString(16).padStart(8, '0')}"`,
    'x-ms-blob-type': 'BlockBlob',
    ...extraHeaders,
  };
  const range = parseRange(request.headers['x-ms-range'] ?? request.headers.range, blob.length);
  if (range === 'invalid') {
    response.writeHead(416, { ...headers, 'content-range': `bytes */${blob.length}` });
    response.end();
    return;
  }
  const [start, end] = range ?? [0, blob.length - 1];
  const part = blob.subarray(start, end + 1);
  if (range) headers['content-range'] = `bytes ${start}-${end}/${blob.length}`;
  headers['content-length'] = String(part.length);
  response.writeHead(range ? 206 : 200, headers);
  response.end(method === 'HEAD' ? undefined : part);
}

function parseRange(
  header: string | string[] | undefined,
  length: number,
): [number, number] | 'invalid' | undefined {
  if (typeof header !== 'string') return undefined;
  const match = /^bytes=(\d+)-(\d*)$/.exec(header.trim());
  if (!match) return 'invalid';
  const start = Number(match[1]);
  const end = match[2] === '' ? length - 1 : Math.min(Number(match[2]), length - 1);
  if (start >= length || end < start) return 'invalid';
  return [start, end];
}
