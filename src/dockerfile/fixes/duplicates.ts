/**
 * `duplicates`: identical files inside the environments the prune slims (wheels bundle the same
 * libgfortran in numpy.libs and scipy.libs; pyarrow ships a library twice) become hard links of
 * one another where the prune runs, so the layer stores their data once. prune.sh does it
 * (`--dedupe`): after strip, files of 64 kB or more with the same size, content, mode and owner;
 * files that differ in mode or owner are left alone. A derived stage's links survive the COPY
 * --from into the final image (BuildKit and the classic builder copy hard links as links).
 */
import { lineList } from '../context.js';
import { emptyFixPlan, type FixInput, type FixRulePlan } from './rule.js';

/** Where the prune looks for environments: the bundles the findings point at live there. */
const ENVIRONMENT = /\/(?:site|dist)-packages\//;

export function planDuplicates(input: FixInput): FixRulePlan {
  const plan = emptyFixPlan();
  const found = input.findings.filter(
    (finding) =>
      finding.kind === 'duplicate-files' &&
      [...finding.paths, finding.duplicate?.path ?? ''].some((path) => ENVIRONMENT.test(path)),
  );
  if (found.length === 0) return plan;
  const lines = found.flatMap((finding) => (finding.line === undefined ? [] : [finding.line]));
  const where = lines.length > 0 ? ` (${lineList(lines)})` : '';
  if (!input.prunes) {
    plan.skipped.push(
      `The image repeats files inside a Python environment${where}, but nothing slimpy rewrites runs where they are made, so they are not linked.`,
    );
    return plan;
  }
  const example = found.find((finding) => finding.duplicate)?.duplicate;
  plan.scriptArgs.push('--dedupe');
  plan.notes.push(
    `Identical files in the Python environments${where} become hard links of one another where the prune runs, so their data is stored once${example ? ` (e.g. \`${example.path}\` repeats \`${example.original}\`)` : ''}.`,
  );
  return plan;
}
