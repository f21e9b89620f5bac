/**
 * `toolchain`: build-only OS packages (compilers, headers) out of the shipped stage. Registered so
 * that the `fix` input, the culprit search and the report know it; it plans nothing yet.
 */
import { emptyFixPlan, type FixInput, type FixRulePlan } from './rule.js';

export function planToolchain(_input: FixInput): FixRulePlan {
  return emptyFixPlan();
}
