/** `install-inputs`: not planned yet. */
import { emptyFixPlan, type FixInput, type FixRulePlan } from './rule.js';

export function planInstallInputs(_input: FixInput): FixRulePlan {
  return emptyFixPlan();
}
