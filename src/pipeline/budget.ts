/** The size budget: the verdict on the delivered image and the sentence a failed job shows. */
import type { BudgetVerdict } from '../model/report.js';
import type { Settings } from '../model/settings.js';
import { formatBytes } from '../report/format.js';

export function budgetVerdict(
  settings: Pick<Settings, 'budget' | 'budgetMetric'>,
  size: number,
  compressed: number | undefined,
): BudgetVerdict | undefined {
  if (settings.budget === undefined) return undefined;
  const actual = settings.budgetMetric === 'compressed' ? compressed : size;
  if (actual === undefined) return undefined;
  return {
    metric: settings.budgetMetric,
    limit: settings.budget,
    actual,
    over: actual > settings.budget,
  };
}

export function budgetFailure(budget: BudgetVerdict): string {
  return (
    `The image is over its size budget: ${formatBytes(budget.actual)} ${budget.metric} > budget ${formatBytes(budget.limit)} ` +
    `(${budget.actual} > ${budget.limit} bytes).`
  );
}
