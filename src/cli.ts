/** The CLI: argv -> one session (src/session.ts), the same as the action's -> terminal. */
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { cancelOnSignals } from './cancel.js';
import { cliSizeHistory } from './history/cli.js';
import { InputError, readSettings } from './inputs.js';
import type { Settings } from './model/settings.js';
import type { PipelineHooks } from './pipeline/hooks.js';
import { redactText, secretBuildArgValues } from './report/redact.js';
import { renderText } from './report/text.js';
import { CLI_OPTIONS, CLI_USAGE, flagInputs } from './cli-flags.js';
import { runSession, type SessionResult } from './session.js';

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: CLI_OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    process.stderr.write(`${messageOf(error)}\n\n${CLI_USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const command = positionals[0];
  if (values.help || (command !== 'measure' && command !== 'slim')) {
    process.stderr.write(`${CLI_USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const inputs = flagInputs(command, values);
  let settings: Settings | undefined;
  const cancelled = cancelOnSignals(() => settings?.runId, {
    info: (line) => process.stderr.write(`${line}\n`),
    warning: (message) => process.stderr.write(`warning: ${message}\n`),
  });
  try {
    const out = values.out ?? '.slimpy';
    settings = readSettings((name) => inputs[name] ?? '', {
      workspace: process.cwd(),
      outputDir: path.resolve(out),
      cacheDir: path.resolve(values['cache-dir'] ?? path.join(out, 'layer-cache')),
      runId: randomUUID().slice(0, 12),
    });
    const hooks = terminalHooks(values.quiet ?? false);
    const result = await runSession(settings, {
      hooks,
      // Size history (src/history): a local directory instead of the Actions cache.
      history: values.history
        ? cliSizeHistory(values.history, { base: values.base }, settings, hooks)
        : undefined,
      signal: cancelled,
      publish: async (done) => printResult(done, values.json ?? false),
    });
    for (const failure of result.failures) process.stderr.write(`slimpy: ${failure}\n`);
    return result.failures.length > 0 ? 1 : 0;
  } catch (error) {
    const secrets = settings ? secretBuildArgValues(settings.buildArgs) : [];
    process.stderr.write(`slimpy: ${redactText(messageOf(error), secrets)}\n`);
    // A cancelled run exits from its signal handler, once this run's objects are removed.
    if (cancelled.aborted) return new Promise<number>(() => undefined);
    return error instanceof InputError ? 2 : 1;
  }
}

function printResult({ report, files }: SessionResult, json: boolean): void {
  if (json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(`${renderText(report, files)}\n`);
}

function terminalHooks(quiet: boolean): PipelineHooks {
  return {
    info: (line) => {
      if (!quiet) process.stderr.write(`${line}\n`);
    },
    warning: (message, where) =>
      process.stderr.write(
        `warning: ${where ? `${where.file}${where.line ? `:${where.line}` : ''}: ` : ''}${message}\n`,
      ),
    group: async (title, work) => {
      process.stderr.write(`\n== ${title}\n`);
      return work();
    },
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// Exit deliberately: keep-alive sockets of the engine client can hold Node open.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`slimpy: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
