/**
 * `toolchain`: build-only OS packages (compilers, headers, build tools) out of the shipped stage,
 * the runtime packages the shipped files need kept (src/dockerfile/toolchain/ plans it from the
 * facts measured on the original image). Planned only where the findings see a toolchain.
 */
import { planToolchainRewrite } from '../toolchain/plan.js';
import { emptyFixPlan, layerAt, type FixInput, type FixRulePlan } from './rule.js';

export function planToolchain(input: FixInput): FixRulePlan {
  const plan = emptyFixPlan();
  const toolchainLines = input.findings
    .filter((finding) => finding.kind === 'build-toolchain' && finding.keyword === 'RUN')
    .flatMap((finding) => (finding.line === undefined ? [] : [finding.line]));
  if (toolchainLines.length === 0) return plan;
  const facts = input.facts.toolchain;
  if (facts === undefined) {
    const why = input.facts.toolchainUnmeasured ?? 'its runtime needs were not measured';
    plan.skipped.push(`The build toolchain stays in the image: ${why}.`);
    return plan;
  }
  const planned = planToolchainRewrite({
    context: input.context,
    facts,
    toolchainLines,
    layerBytes: (line) => layerAt(input.facts, line)?.bytes,
    prunedRuns: input.prunedRuns,
  });
  plan.skipped.push(...planned.skipped);
  const rewrite = planned.rewrite;
  if (rewrite === undefined) return plan;
  const [first, ...others] = planned.notes;
  plan.edits.push(...rewrite.edits);
  plan.lines.push(...rewrite.lines);
  plan.notes.push(...(rewrite.append ? others : planned.notes));
  if (rewrite.way === 'builder-stage') plan.stagesAdded = 1;
  if (rewrite.moved) plan.moves = [rewrite.moved];
  if (rewrite.append) {
    plan.appends.push({
      run: rewrite.append.run,
      command: rewrite.append.command,
      order: 'purge',
      note: first ?? '',
      what: 'would remove the build-only packages',
    });
  }
  return plan;
}
