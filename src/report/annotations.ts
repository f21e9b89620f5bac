/**
 * Findings as workflow annotations: a warning on the Dockerfile line that causes each one, so the
 * advice shows in the pull request's "Files changed" view next to the line to change.
 */
import * as core from '@actions/core';
import { formatBytes } from './format.js';
import type { SlimpyReport } from '../model/report.js';

export type AnnotationSink = (message: string, properties: core.AnnotationProperties) => void;

/** GitHub shows at most 10 warning annotations per step; leave room for slimpy's other warnings. */
export const MAX_FINDING_ANNOTATIONS = 5;

/** One warning per finding, biggest first, at `report.dockerfile` and the finding's line. */
export function annotateFindings(
  report: Pick<SlimpyReport, 'dockerfile' | 'findings'>,
  warn: AnnotationSink = (message, properties) => core.warning(message, properties),
  limit = MAX_FINDING_ANNOTATIONS,
): void {
  for (const finding of (report.findings ?? []).slice(0, limit)) {
    const properties: core.AnnotationProperties = {
      title: `slimpy: ${formatBytes(finding.bytes)} ${finding.kind.replace(/-/g, ' ')}`,
      file: report.dockerfile,
    };
    if (finding.line !== undefined) properties.startLine = finding.line;
    warn(`${finding.title}. ${finding.fix}`, properties);
  }
}

/**
 * An error on each COPY line whose source the prune could not find in its stage: the prune ran
 * over nothing there, so that environment shipped unslimmed.
 */
export function annotateMissingRoots(
  report: Pick<SlimpyReport, 'dockerfile' | 'slim'>,
  error: AnnotationSink = (message, properties) => core.error(message, properties),
): void {
  for (const missing of report.slim?.missingRoots ?? []) {
    const message =
      `slimpy could not find \`${missing.root}\` in the stage this COPY copies from, so nothing there was slimmed. ${report.slim?.unchanged?.detail ?? ''}`.trim();
    const lines = missing.lines.length > 0 ? missing.lines : [undefined];
    for (const line of lines) {
      const properties: core.AnnotationProperties = {
        title: 'slimpy: root not found',
        file: report.dockerfile,
      };
      if (line !== undefined) properties.startLine = line;
      error(message, properties);
    }
  }
}
