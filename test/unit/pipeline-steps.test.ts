import { describe, expect, it } from 'vitest';
import { StepClock, startStep, step } from '../../src/pipeline/steps.js';
import { collectingHooks } from '../support/hooks.js';

function testRun() {
  const { hooks, logs } = collectingHooks();
  return { hooks, logs, clock: new StepClock(), signal: new AbortController().signal };
}

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

describe('pipeline steps', () => {
  it('times each step and lists them in the order they began', async () => {
    const run = testRun();
    await step(run, 'Build the image', async () => tick());
    await step(run, 'Measure the image', async () => tick());
    const timings = run.clock.timings();
    expect(timings.steps.map((s) => s.step)).toEqual(['Build the image', 'Measure the image']);
    expect(timings.steps[1]!.startSeconds).toBeGreaterThanOrEqual(timings.steps[0]!.startSeconds);
    expect(timings.totalSeconds).toBeGreaterThanOrEqual(timings.steps[1]!.startSeconds);
    expect(run.logs).toEqual(['== Build the image', '== Measure the image']);
  });

  it('shows a background step’s log in its own group when joined, whatever ran meanwhile', async () => {
    const run = testRun();
    const background = startStep(run, 'Build the slimmed image', async (inner) => {
      inner.hooks.info('=> [builder 1/2] FROM base');
      await tick();
      inner.hooks.warning('strip: kept the original');
      return 'sha256:slim';
    });
    await step(run, 'Measure the image', async () => {
      run.hooks.info('measured');
      await tick();
    });
    expect(await background.join()).toBe('sha256:slim');
    expect(run.logs).toEqual([
      '== Measure the image',
      'measured',
      '== Build the slimmed image',
      '=> [builder 1/2] FROM base',
      'warning: strip: kept the original',
    ]);
    const slimmed = run.clock.timings().steps.find((s) => s.step === 'Build the slimmed image');
    expect(slimmed?.overlapped).toBe(true);
  });

  it('starts a step after what it needs, and fails with its error without running', async () => {
    const run = testRun();
    const order: string[] = [];
    const first = startStep(run, 'first', async () => {
      await tick();
      order.push('first');
      return 1;
    });
    const second = startStep(run, 'second', async () => order.push('second'), first.result);
    await second.join();
    expect(order).toEqual(['first', 'second']);
    let ran = false;
    const failed = startStep(
      run,
      'third',
      async () => (ran = true),
      Promise.reject(new Error('the build failed')),
    );
    await expect(failed.join()).rejects.toThrow('the build failed');
    expect(ran).toBe(false);
  });

  it('cancels a background step through its signal, and waits until it stopped', async () => {
    const run = testRun();
    let stopped = false;
    const background = startStep(
      run,
      'Build the slimmed image',
      (inner) =>
        new Promise<void>((_resolve, reject) =>
          inner.signal.addEventListener('abort', () => {
            stopped = true;
            reject(inner.signal.reason);
          }),
        ),
    );
    await tick();
    await background.cancel();
    expect(stopped).toBe(true);
    await expect(background.result).rejects.toThrow('no longer needed');
  });
});
