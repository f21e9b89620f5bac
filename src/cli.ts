/** The CLI: argv -> the same pipeline as the action -> terminal. */
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { cancelOnSignals } from './cancel.js';
import { cliSizeHistory } from './history/cli.js';
import { growthFailure } from './history/growth.js';
import { growthOf, recordHistory, restoreHistory } from './history/history.js';
import { InputError, readSettings, type Settings } from './inputs.js';
import { runPipeline, type PipelineHooks } from './pipeline.js';
import { redactText, secretBuildArgValues } from './report/redact.js';
import { renderText } from './report/text.js';

const USAGE = `Usage:
  slimpy measure --context DIR [--file F] [--target T] [--build-arg K=V]... [--network host] [--json]
  slimpy slim    --context DIR [--file F] [--smoke "CMD"] [--no-strip] [--prune a,b] [--keep GLOB]...
                 [--strict] [--network host] [--json]
Common:          [--budget 450MB] [--budget-metric uncompressed|compressed] [--out DIR]
                 [--cache-dir DIR] [--tag NAME] [--no-compressed] [--quiet]
History:         [--history DIR] records HEAD's size there; [--base REV] [--max-growth 5%|20MB] compare
  --json prints the report object (documented in README.md) on stdout; logs go to stderr.`;

const OPTIONS = {
  context: { type: 'string' },
  file: { type: 'string', short: 'f' },
  target: { type: 'string' },
  'build-arg': { type: 'string', multiple: true },
  network: { type: 'string' },
  smoke: { type: 'string' },
  'smoke-timeout': { type: 'string' },
  'no-strip': { type: 'boolean' },
  prune: { type: 'string' },
  keep: { type: 'string', multiple: true },
  strict: { type: 'boolean' },
  budget: { type: 'string' },
  'budget-metric': { type: 'string' },
  out: { type: 'string' },
  'cache-dir': { type: 'string' },
  history: { type: 'string' },
  base: { type: 'string' },
  'max-growth': { type: 'string' },
  tag: { type: 'string' },
  'no-compressed': { type: 'boolean' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const command = positionals[0];
  if (values.help || (command !== 'measure' && command !== 'slim')) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const flags: Record<string, string> = {
    context: values.context ?? '.',
    file: values.file ?? '',
    target: values.target ?? '',
    'build-args': (values['build-arg'] ?? []).join('\n'),
    network: values.network ?? '',
    mode: command,
    'smoke-test': values.smoke ?? '',
    'smoke-timeout': values['smoke-timeout'] ?? '',
    strip: values['no-strip'] ? 'false' : 'true',
    prune: values.prune ?? '',
    keep: (values.keep ?? []).join('\n'),
    strict: values.strict ? 'true' : 'false',
    budget: values.budget ?? '',
    'budget-metric': values['budget-metric'] ?? '',
    'max-growth': values['max-growth'] ?? '',
    tag: values.tag ?? '',
    'compressed-size': values['no-compressed'] ? 'false' : 'true',
  };
  const cwd = process.cwd();
  let settings: Settings | undefined;
  const cancelled = cancelOnSignals(() => settings?.runId, {
    info: (line) => process.stderr.write(`${line}\n`),
    warning: (message) => process.stderr.write(`warning: ${message}\n`),
  });
  try {
    settings = readSettings((name) => flags[name] ?? '', {
      workspace: cwd,
      outputDir: path.resolve(values.out ?? '.slimpy'),
      cacheDir: path.resolve(
        values['cache-dir'] ?? path.join(values.out ?? '.slimpy', 'layer-cache'),
      ),
      runId: randomUUID().slice(0, 12),
    });
    const hooks = terminalHooks(values.quiet ?? false);
    // Size history (src/history): a local directory instead of the Actions cache.
    const history = values.history
      ? cliSizeHistory(values.history, { base: values.base }, settings, hooks)
      : undefined;
    const restored = history ? await restoreHistory(history) : undefined;
    const { report, files } = await runPipeline(settings, hooks, cancelled);
    if (history && restored) {
      report.growth = growthOf(restored, report, settings);
      if (report.growth) await writeFile(files.report, JSON.stringify(report, null, 2) + '\n');
      await recordHistory(history, restored, report, settings);
    }
    if (values.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    else process.stdout.write(renderText(report, files) + '\n');
    if (report.growth?.over) process.stderr.write(`slimpy: ${growthFailure(report.growth)}\n`);
    else if (report.growth) process.stderr.write(`Growth: ${report.growth.message}\n`);
    return report.budget?.over || report.growth?.over ? 1 : 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const secrets = settings ? secretBuildArgValues(settings.buildArgs) : [];
    process.stderr.write(`slimpy: ${redactText(message, secrets)}\n`);
    // A cancelled run exits from its signal handler, once this run's objects are removed.
    if (cancelled.aborted) return new Promise<number>(() => undefined);
    return error instanceof InputError ? 2 : 1;
  }
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

// Exit deliberately: keep-alive sockets of the engine client can hold Node open.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`slimpy: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
