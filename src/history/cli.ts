/**
 * The size history of the CLI (`--history DIR`): a local directory store, this checkout's HEAD as
 * the commit recorded, and `--base REV` (resolved by git) as the commit compared with.
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import type { Settings } from '../model/settings.js';
import type { HistoryLog, SizeHistory } from './history.js';
import type { HistoryPlan } from './plan.js';
import { LocalDirectoryStore } from './store.js';

export function cliSizeHistory(
  dir: string,
  options: { base?: string },
  settings: Settings,
  log: HistoryLog,
): SizeHistory {
  const head = gitCommit(settings.workspace, 'HEAD');
  if (!head)
    log.warning(`${settings.workspace} is not a git checkout: this run's size is not recorded`);
  const plan: HistoryPlan = {
    record: head ? { kind: 'baseline', sha: head, ref: 'HEAD' } : undefined,
  };
  if (options.base) {
    const baseSha = gitCommit(settings.workspace, options.base);
    if (baseSha) plan.compare = { baseSha, baseRef: options.base };
    else
      log.warning(`--base ${options.base} is not a commit git knows here: growth is not compared`);
  }
  const historyDir = path.resolve(dir);
  return {
    store: new LocalDirectoryStore(historyDir),
    commentKey: settings.commentKey,
    plan,
    stagingDir: path.join(historyDir, '.staging'),
    layerCacheDir: settings.cacheDir,
    runUnique: settings.runId,
    log,
  };
}

function gitCommit(cwd: string, revision: string): string | undefined {
  if (revision.startsWith('-')) return undefined;
  try {
    const sha = execFileSync('git', ['rev-parse', '--verify', '--quiet', `${revision}^{commit}`], {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    return /^[0-9a-f]{40,64}$/.test(sha) ? sha : undefined;
  } catch {
    return undefined;
  }
}
