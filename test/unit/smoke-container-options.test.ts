import { describe, expect, it } from 'vitest';
import { OutputTail, containerCreateOptions } from '../../src/engine/containers.js';

describe('OutputTail', () => {
  it('keeps everything under the limit', () => {
    const tail = new OutputTail(100);
    tail.push(Buffer.from('hello '));
    tail.push(Buffer.from('world'));
    expect(tail.text()).toBe('hello world');
    expect(tail.droppedBytes).toBe(0);
  });

  it('keeps exactly the last N bytes of a long stream', () => {
    const tail = new OutputTail(10);
    for (let i = 0; i < 1000; i++) tail.push(Buffer.from(`line ${i}\n`));
    expect(tail.text()).toBe('\nline 999\n');
    const total = Array.from({ length: 1000 }, (_, i) => `line ${i}\n`).join('').length;
    expect(tail.droppedBytes).toBe(total - 10);
  });

  it('holds at most the limit plus one chunk however much is pushed', () => {
    const tail = new OutputTail(1024);
    const chunk = Buffer.alloc(64 * 1024, 'x');
    for (let i = 0; i < 200; i++) tail.push(chunk);
    expect((tail as unknown as { held: number }).held).toBeLessThanOrEqual(1024 + chunk.length);
    expect(tail.text()).toHaveLength(1024);
  });

  it('does not start with a broken character when the cut falls inside one', () => {
    const tail = new OutputTail(5);
    tail.push(Buffer.from('aé€!')); // a, é (2 bytes), € (3 bytes), !: the cut splits é
    expect(tail.text()).toBe('€!');
  });

  it('replaces invalid UTF-8 with U+FFFD', () => {
    const tail = new OutputTail(100);
    tail.push(Buffer.from([0x6f, 0x6b, 0xff, 0x21]));
    expect(tail.text()).toBe('ok\uFFFD!');
  });
});

describe('containerCreateOptions', () => {
  const base = { image: 'img', timeoutMs: 1000, labels: { 'dev.slimpy.managed': 'true' } };

  it('hardens by default', () => {
    const options = containerCreateOptions(base);
    expect(options.HostConfig).toMatchObject({
      NetworkMode: 'none',
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Memory: 2 * 1024 ** 3,
      MemorySwap: 2 * 1024 ** 3,
      PidsLimit: 512,
      ReadonlyRootfs: false,
      AutoRemove: false,
    });
    expect(options.Labels).toEqual({ 'dev.slimpy.managed': 'true' });
    expect(options.Tty).toBe(false);
  });

  it("keeps the image's user, env, entrypoint and command unless given", () => {
    const options = containerCreateOptions(base);
    for (const key of ['User', 'Env', 'Entrypoint', 'Cmd'] as const) {
      expect(options).not.toHaveProperty(key);
    }
    expect(
      containerCreateOptions({
        ...base,
        entrypoint: ['sh', '-c', 'true'],
        user: '1000',
        env: ['A=1'],
      }),
    ).toMatchObject({ Entrypoint: ['sh', '-c', 'true'], User: '1000', Env: ['A=1'] });
  });

  it('sets memory without extra swap, and the pids limit', () => {
    const options = containerCreateOptions({
      ...base,
      memoryBytes: 256 * 1024 ** 2,
      pidsLimit: 64,
    });
    expect(options.HostConfig).toMatchObject({
      Memory: 256 * 1024 ** 2,
      MemorySwap: 256 * 1024 ** 2,
      PidsLimit: 64,
    });
  });
});
