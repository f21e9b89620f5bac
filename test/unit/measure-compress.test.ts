import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CHUNK_BYTES, DeflatePool, GzipSizer, gzipSize } from '../../src/measure/compress.js';

/** Text-like data with long-range repetition, so chunk boundaries would cost if handled badly. */
function sample(bytes: number): Buffer {
  const words = ['site-packages', 'numpy', '__init__.py', 'import', 'def', 'return', 'lib'];
  const parts: string[] = [];
  let length = 0;
  for (let i = 0; length < bytes; i++) {
    const part = `${words[(i * 7) % words.length]}${i % 97} `;
    parts.push(part);
    length += part.length;
  }
  return Buffer.concat([Buffer.from(parts.join('')), randomBytes(bytes / 8)]).subarray(0, bytes);
}

describe('gzipSize', () => {
  it('is within 0.1% of a single gzip -6 stream for multi-chunk input', async () => {
    const data = sample(3 * CHUNK_BYTES + 12345);
    const single = gzipSync(data, { level: 6 }).length;
    const chunked = await gzipSize([data], new DeflatePool(2));
    expect(Math.abs(chunked - single) / single).toBeLessThan(0.001);
  });

  it('gives gzip’s 20 bytes for an empty stream', async () => {
    expect(await gzipSize([], new DeflatePool(1))).toBe(gzipSync(Buffer.alloc(0)).length);
  });

  it('does not depend on how the input is split into writes', async () => {
    const data = sample(CHUNK_BYTES + 5000);
    const pieces = [];
    for (let offset = 0; offset < data.length; offset += 65_536) {
      pieces.push(data.subarray(offset, offset + 65_536));
    }
    const pool = new DeflatePool(3);
    expect(await gzipSize(pieces, pool)).toBe(await gzipSize([data], pool));
  });
});

describe('DeflatePool', () => {
  it('never runs more chunks at once than its concurrency', async () => {
    const pool = new DeflatePool(2);
    let running = 0;
    let peak = 0;
    const job = async (): Promise<void> => {
      await pool.acquire();
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running--;
      pool.release();
    };
    await Promise.all(Array.from({ length: 8 }, job));
    expect(peak).toBe(2);
  });

  it('holds the writer back while every slot is busy', async () => {
    const pool = new DeflatePool(1);
    await pool.acquire();
    const sizer = new GzipSizer(pool);
    let taken = false;
    const writing = sizer.write(Buffer.alloc(CHUNK_BYTES)).then(() => (taken = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(taken).toBe(false);
    pool.release();
    await writing;
    expect(taken).toBe(true);
    expect(await sizer.end()).toBeGreaterThan(0);
  });
});
