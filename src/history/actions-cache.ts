/**
 * The size history of the action: the Actions cache (`@actions/cache`, cache service v2), and the
 * run's facts (event, commit, runner paths) read from the runner's environment.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import * as cache from '@actions/cache';
import type { Settings } from '../model/settings.js';
import type { HistoryLog, SizeHistory } from './history.js';
import { planFromEvent, type RunFacts } from './plan.js';
import type { CacheStore, SaveOutcome } from './store.js';

/**
 * The library logs its own failures and does not throw them: a restore that failed answers a
 * miss (after a warning), a save that failed answers -1 (after a warning, or only an info line
 * when the reservation failed, which is also how it answers a key that exists). So a save first
 * looks the key up, and a -1 for a key that was not there is a failure.
 */
export class ActionsCacheStore implements CacheStore {
  readonly name = 'the Actions cache';

  whyUnavailable(): string | undefined {
    if (!cache.isFeatureAvailable()) {
      return 'the Actions cache is not available to this job (no ACTIONS_RESULTS_URL or ACTIONS_CACHE_URL)';
    }
    if (!process.env.ACTIONS_RUNTIME_TOKEN) {
      return 'the Actions cache is not available to this job (no ACTIONS_RUNTIME_TOKEN)';
    }
    return undefined;
  }

  async restore(paths: string[], key: string, restoreKeys: string[]): Promise<string | undefined> {
    return cache.restoreCache(paths, key, restoreKeys);
  }

  async save(paths: string[], key: string): Promise<SaveOutcome> {
    const existing = await cache.restoreCache(paths, key, [], { lookupOnly: true });
    if (existing === key) return 'exists';
    if ((await cache.saveCache(paths, key)) !== -1) return 'saved';
    throw new Error(`the Actions cache did not take ${key} (its message is above)`);
  }
}

/** The action's size history, from the runner's environment; reading it never throws. */
export function actionsSizeHistory(
  settings: Settings,
  facts: RunFacts,
  log: HistoryLog,
  env: NodeJS.ProcessEnv = process.env,
  store: CacheStore = new ActionsCacheStore(),
): SizeHistory {
  const temp = env.RUNNER_TEMP || os.tmpdir();
  return {
    store,
    commentKey: settings.commentKey,
    plan: planFromEvent(facts),
    stagingDir: path.join(temp, 'slimpy-history'),
    layerCacheDir: settings.cacheDir,
    runUnique: [env.GITHUB_RUN_ID || 'run', env.GITHUB_RUN_ATTEMPT || '1', settings.runId].join(
      '-',
    ),
    log,
  };
}
