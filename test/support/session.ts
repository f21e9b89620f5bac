/** Slim mode on the real engine for engine tests: a fixture slimmed through the whole session. */
import { cpSync } from 'node:fs';
import * as path from 'node:path';
import { readSettings } from '../../src/inputs.js';
import { runSession, type SessionResult } from '../../src/session.js';
import { baseImage } from './engine.js';
import { collectingHooks, testHost } from './hooks.js';

export interface FixtureRun {
  /** The fixture directory, copied to `<work>/<name>` as the build context and workspace. */
  fixture: string;
  work: string;
  name: string;
  runId: string;
  /** Action inputs over the defaults (PYTHON_IMAGE build arg, host network, no compressed sizes). */
  inputs: Record<string, string>;
}

/** Runs the session; throws with the log's end when it reports failures. */
export async function slimFixture(
  run: FixtureRun,
): Promise<SessionResult & { logs: string[]; context: string }> {
  const context = path.join(run.work, run.name);
  cpSync(run.fixture, context, { recursive: true });
  const values: Record<string, string> = {
    context,
    'build-args': `PYTHON_IMAGE=${baseImage()}`,
    network: 'host',
    'compressed-size': 'false',
    ...run.inputs,
  };
  const settings = readSettings((name) => values[name] ?? '', {
    workspace: context,
    outputDir: path.join(context, '.out'),
    cacheDir: path.join(run.work, 'layer-cache'),
    runId: run.runId,
  });
  const { hooks, logs } = collectingHooks();
  const result = await runSession(settings, testHost(hooks));
  if (result.failures.length > 0) {
    throw new Error(`${result.failures.join('\n')}\n${logs.slice(-60).join('\n')}`);
  }
  return { ...result, logs, context };
}
