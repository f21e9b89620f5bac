/**
 * The engine's socket behind a proxy process (socket-proxy.mjs) a test controls: kill it (the
 * engine is gone), freeze it (SIGUSR1: the engine hangs), or read which API requests went
 * through it (`requests()`: `POST /v1.45/build?…`, one a line), to prove a run never built.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

export interface EngineProxy {
  /** `unix://…`: the DOCKER_HOST that goes through the proxy. */
  host: string;
  process: ChildProcess;
  /** Every API request line seen so far, `METHOD PATH`. */
  requests(): string[];
}

/** Starts a proxy whose socket (and request log) live in `dir`. */
export async function startEngineProxy(dir: string, name: string): Promise<EngineProxy> {
  const socket = path.join(dir, `${name}.sock`);
  const log = path.join(dir, `${name}.requests`);
  const target = (process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock').replace(
    /^unix:\/\//,
    '',
  );
  const proxy = spawn(process.execPath, ['test/support/socket-proxy.mjs', socket, target, log], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    proxy.stdout.once('data', () => resolve());
    proxy.once('exit', () => reject(new Error('the socket proxy exited')));
  });
  return {
    host: `unix://${socket}`,
    process: proxy,
    requests: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []),
  };
}
