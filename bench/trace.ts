/**
 * slimpy's smoke-test trace against the bench's own measurements: the used figure against the
 * strace lower bound (in the same environments; the strace run imports from sources, so bytecode
 * is left out of slimpy's figure for the comparison), what `pycache` still saves now that it
 * keeps the bytecode the test reads, the default run's cold-start delta, and what tracing costs:
 * the smoke test in the original image, traced and not, a few times each, interleaved.
 */
import type { SessionResult } from '../src/session.js';
import { median } from '../src/smoke/timing.js';
import { runContainer } from '../src/engine/containers.js';
import { smokeCommand } from '../src/smoke/smoke.js';
import { runTracedSmoke } from '../src/smoke/trace.js';
import { benchLabels, type BenchEngine } from './engine.js';
import type { LowerBound, TraceFigures } from './results.js';

const OVERHEAD_RUNS = 3;
const SMOKE_TIMEOUT_MS = 5 * 60_000;

export async function measureTrace(
  engine: BenchEngine,
  smoke: string,
  pipeline: SessionResult,
  bound: LowerBound,
): Promise<TraceFigures> {
  const { report } = pipeline;
  const trace = report.trace;
  if (!trace) throw new Error('the pipeline report has no trace: was the smoke test run?');
  const usedSourceBytes = trace.usedBytes - trace.usedBytecodeBytes;
  const boundBytes = bound.environmentBytes ?? 0;
  const smokeReport = report.smoke;
  const before = smokeReport?.before.medianMs;
  const after = smokeReport?.after?.medianMs;
  return {
    status: trace.status,
    ...(trace.reason ? { reason: trace.reason } : {}),
    environmentBytes: trace.environmentBytes,
    usedBytes: trace.usedBytes,
    bytecodeBytes: trace.bytecodeBytes,
    usedBytecodeBytes: trace.usedBytecodeBytes,
    usedSourceBytes,
    boundEnvironmentBytes: boundBytes,
    differencePercent: boundBytes > 0 ? ((usedSourceBytes - boundBytes) / boundBytes) * 100 : 0,
    pycacheSavedBytes: report.slim?.savings.find((s) => s.category === 'pycache')?.bytes ?? 0,
    ...(before !== undefined && after !== undefined
      ? { coldStart: { beforeMs: before, afterMs: after, deltaMs: after - before } }
      : {}),
    ...(trace.status === 'traced'
      ? { overhead: await measureOverhead(engine, smoke, report.before.id, trace.environments) }
      : {}),
  };
}

/** Medians of the smoke test in the original image, untraced and traced, runs interleaved. */
async function measureOverhead(
  engine: BenchEngine,
  smoke: string,
  image: string,
  environments: string[],
): Promise<NonNullable<TraceFigures['overhead']>> {
  const labels = benchLabels(engine);
  const untraced: number[] = [];
  const traced: number[] = [];
  const attempt = smokeCommand(smoke).attempts[0] ?? [];
  // One untimed run of each first: the page cache, not the tracer, would make the first one slow.
  for (let i = 0; i <= OVERHEAD_RUNS; i++) {
    const plain = await runContainer(engine.docker, {
      image,
      entrypoint: attempt,
      timeoutMs: SMOKE_TIMEOUT_MS,
      labels,
    });
    const run = await runTracedSmoke(engine.docker, {
      before: image,
      command: smoke,
      timeoutMs: SMOKE_TIMEOUT_MS,
      labels,
      environments,
    });
    if (run.trace.status !== 'traced' || plain.exitCode !== 0) {
      throw new Error(
        `the overhead runs failed: ${run.trace.status === 'traced' ? plain.output.slice(-500) : run.trace.reason}`,
      );
    }
    if (i === 0) continue;
    untraced.push(plain.durationMs);
    traced.push(run.trace.output.durationMs);
  }
  return { runs: OVERHEAD_RUNS, tracedMs: median(traced), untracedMs: median(untraced) };
}
