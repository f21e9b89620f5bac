/**
 * Time, in words shared by the comment, the summary and the terminal: what the run cost (its step
 * times) and what slimming did to cold start. Pure.
 */
import type { RunTimings, SlimpyReport } from '../model/report.js';
import { removesBytecode } from '../slim/savings.js';
import { formatDuration, formatSignedDuration } from './format.js';

/** `slimpy took 48.2 s: Build the image 22.0 s · Build the slimmed image 20.5 s (in parallel) · …`. */
export function timingsSentence(timings: RunTimings): string {
  const steps = timings.steps.map(
    (step) =>
      `${step.step} ${formatDuration(step.seconds * 1000)}${step.overlapped ? ' (in parallel)' : ''}`,
  );
  return `slimpy took ${formatDuration(timings.totalSeconds * 1000)}${steps.length > 0 ? `: ${steps.join(' · ')}` : ''}.`;
}

/** One line per step for a terminal, the overlapped ones marked. */
export function timingsLines(timings: RunTimings): string[] {
  const width = Math.max(0, ...timings.steps.map((step) => step.step.length));
  return [
    `Time: ${formatDuration(timings.totalSeconds * 1000)}`,
    ...timings.steps.map(
      (step) =>
        `  ${step.step.padEnd(width)}  ${formatDuration(step.seconds * 1000).padStart(8)}` +
        (step.overlapped ? '  (in parallel with other steps)' : ''),
    ),
  ];
}

/**
 * What slimming did to cold start, when it removed bytecode (nothing else it does slows imports,
 * and slimpy only times cold start then): the delta of the medians, or "no measurable change"
 * when the delta is inside the spread of the runs. Undefined when there is nothing to say.
 */
export function coldStartSentence(report: SlimpyReport): string | undefined {
  const smoke = report.smoke;
  const delta = smoke?.coldStartDeltaMs;
  if (!smoke || delta === undefined || !removesBytecode(report.slim?.savings ?? []))
    return undefined;
  const spread = smoke.coldStartSpreadMs ?? 0;
  const runs = smoke.before.runsMs?.length ?? 0;
  const median = `median of ${runs} run${runs === 1 ? '' : 's'} each`;
  if (Math.abs(delta) <= spread) {
    return (
      `Cold start: no measurable change without bytecode (${formatSignedDuration(delta)}, ` +
      `inside the ${formatDuration(spread)} the runs of one image vary by; ${median}).`
    );
  }
  return (
    `Cold start: imports take ${formatSignedDuration(delta)} without bytecode ` +
    `(${median}; the runs of one image vary by up to ${formatDuration(spread)}).`
  );
}
