/** `duplicates`: not planned yet. */
import { emptyFixPlan, type FixInput, type FixRulePlan } from './rule.js';

export function planDuplicates(_input: FixInput): FixRulePlan {
  return emptyFixPlan();
}
