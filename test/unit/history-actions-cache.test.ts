/**
 * The REAL @actions/cache 6 (tar + zstd/gzip, Twirp client, @azure/storage-blob upload) against
 * the loopback cache-service fake, through ActionsCacheStore.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BlockBlobClient } from '@azure/storage-blob';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ActionsCacheStore } from '../../src/history/actions-cache.js';
import {
  startCacheServiceFake,
  TWIRP_PREFIX,
  type CacheServiceFake,
} from '../support/cache-service-fake.js';

let fake: CacheServiceFake;
let root: string;
let output: string[];
const savedEnv = { ...process.env };

beforeEach(async () => {
  fake = await startCacheServiceFake();
  root = await mkdtemp(path.join(tmpdir(), 'slimpy-cache-'));
  await mkdir(path.join(root, 'temp'));
  Object.assign(process.env, fake.env, {
    RUNNER_TEMP: path.join(root, 'temp'),
    GITHUB_WORKSPACE: root,
  });
  delete process.env.GITHUB_SERVER_URL;
  output = [];
  // @actions/core logs with `::warning::…` lines on stdout; keep them for the assertions.
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    output.push(String(chunk));
    return true;
  });
});

afterEach(async () => {
  vi.restoreAllMocks();
  process.env = { ...savedEnv };
  await fake.close();
  await rm(root, { recursive: true, force: true });
});

const warnings = (): string[] => output.filter((line) => line.startsWith('::warning::'));

async function layerDir(name: string, records: Record<string, string>): Promise<string> {
  const dir = path.join(root, name);
  await mkdir(dir, { recursive: true });
  for (const [file, text] of Object.entries(records)) await writeFile(path.join(dir, file), text);
  return dir;
}

describe('ActionsCacheStore against the cache-service fake', () => {
  it('saves a directory and restores it byte for byte after it is gone', async () => {
    const store = new ActionsCacheStore();
    const dir = await layerDir('layers', { 'a.json': '{"a":1}\n', 'b.json': '{"b":2}\n' });
    expect(store.whyUnavailable()).toBeUndefined();
    expect(await store.save([dir], 'slimpy-v1-layers-1')).toBe('saved');
    await rm(dir, { recursive: true });

    expect(await store.restore([dir], 'slimpy-v1-layers-', [])).toBe('slimpy-v1-layers-1');
    expect((await readdir(dir)).sort()).toEqual(['a.json', 'b.json']);
    expect(await readFile(path.join(dir, 'b.json'), 'utf8')).toBe('{"b":2}\n');
    expect(fake.requests.map((r) => `${r.operation} ${r.status}`)).toEqual([
      'GetCacheEntryDownloadURL 200', // is the key taken? (lookup only)
      'CreateCacheEntry 200',
      'BlobUpload 201',
      'FinalizeCacheEntryUpload 200',
      'GetCacheEntryDownloadURL 200',
      'BlobDownload 200',
    ]);
    expect(warnings()).toEqual([]);
  });

  it('keeps entries immutable: a second save of the same key is refused, the first stays', async () => {
    const store = new ActionsCacheStore();
    const dir = await layerDir('entry', { 'x.json': 'first' });
    expect(await store.save([dir], 'k-1')).toBe('saved');
    await writeFile(path.join(dir, 'x.json'), 'second');
    expect(await store.save([dir], 'k-1')).toBe('exists');
    expect(fake.entries()).toHaveLength(1);
    await rm(dir, { recursive: true });
    await store.restore([dir], 'k-1', []);
    expect(await readFile(path.join(dir, 'x.json'), 'utf8')).toBe('first');
  });

  it('looks up the key exactly, then by prefix newest first, then the restore keys; only for the same paths', async () => {
    const store = new ActionsCacheStore();
    const dir = await layerDir('h', { 'e.json': 'old' });
    await store.save([dir], 'slimpy-v1-abc-1111111');
    await writeFile(path.join(dir, 'e.json'), 'new');
    await store.save([dir], 'slimpy-v1-abc-2222222');
    const since = fake.requests.length;

    expect(await store.restore([dir], 'slimpy-v1-abc-1111111', ['slimpy-v1-abc-'])).toBe(
      'slimpy-v1-abc-1111111',
    );
    expect(await store.restore([dir], 'slimpy-v1-abc-9999999', ['slimpy-v1-abc-'])).toBe(
      'slimpy-v1-abc-2222222',
    );
    expect(await readFile(path.join(dir, 'e.json'), 'utf8')).toBe('new');
    expect(await store.restore([dir], 'slimpy-v1-zzz-1', ['slimpy-v1-zzz-'])).toBeUndefined();
    // Another path is another cache version: nothing saved from `h` matches it.
    expect(await store.restore([path.join(root, 'other')], 'slimpy-v1-abc-', [])).toBeUndefined();
    const lookup = fake.requests
      .slice(since)
      .find((r) => r.operation === 'GetCacheEntryDownloadURL');
    expect(lookup?.body).toMatchObject({
      key: 'slimpy-v1-abc-1111111',
      restore_keys: ['slimpy-v1-abc-'],
    });
  });

  it('answers a miss after a warning, and throws on save, when the service refuses connections', async () => {
    const store = new ActionsCacheStore();
    const dir = await layerDir('down', { 'a.json': '1' });
    await fake.setDown('refused');
    expect(await store.restore([dir], 'k', ['k-'])).toBeUndefined();
    expect(warnings().join('')).toMatch(/Failed to restore: .*ECONNREFUSED/);
    await expect(store.save([dir], 'k')).rejects.toThrow(/did not take k/);
    await fake.setDown(false);
    expect(await store.save([dir], 'k')).toBe('saved');
  });

  it('throws on save when the service refuses the reservation', async () => {
    const store = new ActionsCacheStore();
    const dir = await layerDir('race', { 'a.json': '1' });
    fake.addFault({ operation: 'CreateCacheEntry', kind: 'bad-request' });
    await expect(store.save([dir], 'k')).rejects.toThrow(/did not take k/);
  });

  it('answers a miss when connections are reset or the token is refused', async () => {
    const store = new ActionsCacheStore();
    const dir = await layerDir('r', { 'a.json': '1' });
    await store.save([dir], 'k');
    await fake.setDown('reset');
    expect(await store.restore([dir], 'k', [])).toBeUndefined();
    await fake.setDown(false);
    process.env.ACTIONS_RUNTIME_TOKEN = 'wrong';
    expect(await store.restore([dir], 'k', [])).toBeUndefined();
    expect(fake.requests.at(-1)).toMatchObject({
      operation: 'GetCacheEntryDownloadURL',
      status: 401,
    });
    expect(warnings()).toHaveLength(2);
  });

  it('treats a broken download as a miss', async () => {
    const store = new ActionsCacheStore();
    const dir = await layerDir('b', { 'a.json': '1' });
    await store.save([dir], 'k');
    fake.addFault({ operation: 'BlobDownload', kind: 'bad-request' });
    expect(await store.restore([dir], 'k', [])).toBeUndefined();
    expect(warnings().join('')).toMatch(/Failed to restore/);
  });

  it('recovers when the service fails once (the Twirp client retries after 3 s)', async () => {
    const store = new ActionsCacheStore();
    const dir = await layerDir('s', { 'a.json': '1' });
    await store.save([dir], 'k');
    const since = fake.requests.length;
    fake.addFault({ operation: 'GetCacheEntryDownloadURL', kind: 'server-error' });
    expect(await store.restore([dir], 'k', [])).toBe('k');
    const lookups = fake.requests
      .slice(since)
      .filter((r) => r.operation === 'GetCacheEntryDownloadURL');
    expect(lookups.map((r) => r.status)).toEqual([500, 200]);
  }, 15_000);

  it('says the cache is unavailable when the job has no cache service', () => {
    delete process.env.ACTIONS_RESULTS_URL;
    expect(new ActionsCacheStore().whyUnavailable()).toMatch(/not available to this job/);
    process.env.ACTIONS_RESULTS_URL = fake.url;
    delete process.env.ACTIONS_RUNTIME_TOKEN;
    expect(new ActionsCacheStore().whyUnavailable()).toMatch(/ACTIONS_RUNTIME_TOKEN/);
  });
});

describe('the fake blob storage', () => {
  async function reserve(key: string): Promise<string> {
    const response = await fetch(`${fake.url}${TWIRP_PREFIX.slice(1)}CreateCacheEntry`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fake.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ key, version: 'v' }),
    });
    return ((await response.json()) as { signed_upload_url: string }).signed_upload_url;
  }

  async function twirp(method: string, body: unknown): Promise<Record<string, unknown>> {
    const response = await fetch(`${fake.url}${TWIRP_PREFIX.slice(1)}${method}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fake.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return (await response.json()) as Record<string, unknown>;
  }

  it('takes a block upload (stageBlock + commitBlockList) as @azure/storage-blob sends it over 128 MiB', async () => {
    const uploadUrl = await reserve('big');
    const data = Buffer.from('0123456789'.repeat(1000));
    await new BlockBlobClient(uploadUrl).uploadData(data, {
      blockSize: 1024,
      maxSingleShotSize: 1024,
      concurrency: 4,
    });
    expect(fake.requests.filter((r) => r.operation === 'BlobUpload')).toHaveLength(11);
    expect(
      await twirp('FinalizeCacheEntryUpload', {
        key: 'big',
        version: 'v',
        size_bytes: String(data.length),
      }),
    ).toMatchObject({ ok: true });
    expect(fake.archive('big')?.equals(data)).toBe(true);

    const found = await twirp('GetCacheEntryDownloadURL', { key: 'bi', version: 'v' });
    expect(found).toMatchObject({ ok: true, matched_key: 'big' });
    const url = String(found.signed_download_url);
    const part = await fetch(url, { headers: { range: 'bytes=10-19' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 10-19/${data.length}`);
    expect(await part.text()).toBe('0123456789');
    expect((await fetch(url, { method: 'HEAD' })).headers.get('content-length')).toBe(
      String(data.length),
    );
    expect((await fetch(url.replace(/sig=[^&]+/, 'sig=forged'))).status).toBe(403);
    expect(
      (
        await fetch(uploadUrl, {
          method: 'PUT',
          body: 'x',
          headers: { 'x-ms-blob-type': 'BlockBlob' },
        })
      ).status,
    ).toBe(409);
  });

  it('does not show an entry before it is finalized, nor finalize a short upload', async () => {
    const uploadUrl = await reserve('half');
    await fetch(uploadUrl, {
      method: 'PUT',
      body: 'abc',
      headers: { 'x-ms-blob-type': 'BlockBlob' },
    });
    expect(await twirp('GetCacheEntryDownloadURL', { key: 'half', version: 'v' })).toEqual({
      ok: false,
    });
    expect(
      await twirp('FinalizeCacheEntryUpload', { key: 'half', version: 'v', size_bytes: '4' }),
    ).toMatchObject({ ok: false });
    expect(fake.entries()).toMatchObject([{ key: 'half', finalized: false, size: 3 }]);
  });
});
