/**
 * Spawns the bundled action (`node dist/index.js`, then `node dist/post.js`) or the CLI the way
 * the runner and a terminal do, for tests that signal, kill or measure the process: INPUT_*
 * variables, GITHUB_OUTPUT / GITHUB_STEP_SUMMARY / GITHUB_STATE files, STATE_* for the post step,
 * a bounded copy of the output, and the peak resident memory read from /proc while it runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

export interface ActionFiles {
  output: string;
  summary: string;
  state: string;
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** stdout and stderr interleaved (the last `maxOutputBytes` of it). */
  output: string;
  /** Peak resident set size (VmHWM) seen while it ran, KiB; 0 when never read. */
  peakRssKiB: number;
  elapsedMs: number;
}

export interface Running {
  child: ChildProcess;
  /** The output so far (bounded). */
  output(): string;
  finished: Promise<Finished>;
}

/** Reads `name<<DELIMITER\nvalue\nDELIMITER` blocks (GITHUB_OUTPUT, GITHUB_STATE). */
export function parseCommandFile(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const match of text.matchAll(/^([^\n<]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) {
    values[match[1]!] = match[3]!;
  }
  return values;
}

/** Starts `node <script> ...args` with exactly `env` (plus PATH, HOME and DOCKER_HOST). */
export function startNode(
  script: string,
  args: string[],
  env: Record<string, string>,
  options: { maxOutputBytes?: number; cwd?: string } = {},
): Running {
  const limit = options.maxOutputBytes ?? 4 * 1024 * 1024;
  const started = Date.now();
  const child = spawn(process.execPath, [script, ...args], {
    cwd: options.cwd ?? process.cwd(),
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/root',
      ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail = new Tail(limit);
  child.stdout?.on('data', (chunk: Buffer) => tail.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => tail.push(chunk));
  let peakRssKiB = 0;
  const poll = setInterval(() => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kib = Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0);
      peakRssKiB = Math.max(peakRssKiB, kib);
    } catch {
      // Not started yet, or gone.
    }
  }, 100);
  const finished = new Promise<Finished>((resolve) =>
    child.on('close', (code, signal) => {
      clearInterval(poll);
      resolve({ code, signal, output: tail.text(), peakRssKiB, elapsedMs: Date.now() - started });
    }),
  );
  return { child, output: () => tail.text(), finished };
}

/** The last `limit` bytes of a stream, kept in whole chunks (a 300 MB log costs no more). */
class Tail {
  private chunks: Buffer[] = [];
  private bytes = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    while (this.chunks.length > 1 && this.bytes - this.chunks[0]!.length >= this.limit) {
      this.bytes -= this.chunks.shift()!.length;
    }
  }

  text(): string {
    return Buffer.concat(this.chunks).toString();
  }
}

export interface RunnerOptions {
  /** A directory of its own for this run's runner files. */
  dir: string;
  apiUrl: string;
  token: string;
  event: 'pull_request' | 'push';
  runnerTemp: string;
  toolCache: string;
  workspace?: string;
  sha?: string;
  env?: Record<string, string>;
}

export const OWNER = 'acme';
export const REPO = 'millpond';
export const PR = 58;

/** The environment the runner gives an action step, and the files it reads back. */
export function runnerEnvironment(
  inputs: Record<string, string>,
  options: RunnerOptions,
): { env: Record<string, string>; files: ActionFiles } {
  mkdirSync(options.dir, { recursive: true });
  const files: ActionFiles = {
    output: path.join(options.dir, 'output'),
    summary: path.join(options.dir, 'summary.md'),
    state: path.join(options.dir, 'state'),
  };
  for (const file of Object.values(files)) writeFileSync(file, '');
  const eventFile = options.event === 'pull_request' ? 'pull_request.opened.json' : 'push.json';
  const env: Record<string, string> = {
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_EVENT_NAME: options.event,
    GITHUB_EVENT_PATH: path.resolve('test/fixtures/events', eventFile),
    GITHUB_REPOSITORY: `${OWNER}/${REPO}`,
    GITHUB_SHA: options.sha ?? '0123456789abcdef0123456789abcdef01234567',
    GITHUB_RUN_ID: String(Date.now()),
    GITHUB_WORKSPACE: options.workspace ?? process.cwd(),
    GITHUB_OUTPUT: files.output,
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_STATE: files.state,
    GITHUB_API_URL: options.apiUrl,
    RUNNER_TEMP: options.runnerTemp,
    RUNNER_TOOL_CACHE: options.toolCache,
    SLIMPY_MAX_RETRY_WAIT_MS: '200',
    'INPUT_GITHUB-TOKEN': options.token,
    INPUT_COMMENT: 'auto',
    ...options.env,
  };
  for (const [key, value] of Object.entries(inputs)) env[`INPUT_${key.toUpperCase()}`] = value;
  return { env, files };
}

/**
 * The post step as the runner runs it after the main step (finished, failed or killed): the
 * same environment, plus each value the main step saved with saveState as STATE_<name>.
 */
export function startPost(env: Record<string, string>, files: ActionFiles): Running {
  const state = parseCommandFile(readFileSync(files.state, 'utf8'));
  const stateEnv = Object.fromEntries(
    Object.entries(state).map(([name, value]) => [`STATE_${name}`, value]),
  );
  return startNode('dist/post.js', [], { ...env, ...stateEnv });
}

/** Resolves once `predicate` holds, polling; rejects after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Finished action run, with what it wrote for the runner. */
export type ActionRunResult = Finished & {
  outputs: Record<string, string>;
  summary: string;
  files: ActionFiles;
  env: Record<string, string>;
};

export interface ActionHarnessOptions {
  /** A temp directory of the test file's; runs get their own folders in it. */
  work: string;
  token: string;
  /** The GitHub API fake's base URL (read at each run: the fake starts in beforeAll). */
  apiUrl: () => string;
}

/**
 * Runs the action and the CLI as the runner and a terminal do, in folders of `work`; `started`
 * keeps every action run's files so afterAll can remove what a failed assertion left behind.
 */
export function actionHarness(options: ActionHarnessOptions) {
  const runnerTemp = path.join(options.work, 'runner-temp');
  const toolCache = path.join(options.work, 'tool-cache');
  const started: ActionFiles[] = [];
  let counter = 0;
  function startAction(
    inputs: Record<string, string>,
    run: {
      event?: 'pull_request' | 'push';
      env?: Record<string, string>;
      apiUrl?: string;
      workspace?: string;
    } = {},
  ): { running: Running; env: Record<string, string>; files: ActionFiles } {
    mkdirSync(runnerTemp, { recursive: true });
    const { env, files } = runnerEnvironment(inputs, {
      dir: path.join(options.work, `run-${counter++}`),
      apiUrl: run.apiUrl ?? options.apiUrl(),
      token: options.token,
      event: run.event ?? 'push',
      runnerTemp,
      toolCache,
      workspace: run.workspace,
      env: run.env,
    });
    started.push(files);
    return { running: startNode('dist/index.js', [], env), env, files };
  }
  async function action(
    inputs: Record<string, string>,
    run: Parameters<typeof startAction>[1] = {},
  ): Promise<ActionRunResult> {
    const startedRun = startAction(inputs, run);
    const finished = await startedRun.running.finished;
    return {
      ...finished,
      outputs: parseCommandFile(readFileSync(startedRun.files.output, 'utf8')),
      summary: readFileSync(startedRun.files.summary, 'utf8'),
      files: startedRun.files,
      env: startedRun.env,
    };
  }
  const cli = (
    args: string[],
    env: Record<string, string> = {},
    cwd = options.work,
  ): Promise<Finished> => startNode(path.resolve('dist/cli.js'), args, env, { cwd }).finished;
  return { startAction, action, cli, started, runnerTemp, toolCache };
}

/** The run id the action saved for its post step; undefined when it stopped before saving it. */
export function runIdOf(files: ActionFiles): string | undefined {
  return parseCommandFile(readFileSync(files.state, 'utf8'))['run-id'];
}
