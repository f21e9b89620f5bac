/** `earlier-layers`: not planned yet. */
import { emptyFixPlan, type FixInput, type FixRulePlan } from './rule.js';

export function planEarlierLayers(_input: FixInput): FixRulePlan {
  return emptyFixPlan();
}
