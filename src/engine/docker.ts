/** Connecting to the engine and learning what it is: version, image store, builder. */
import Docker from 'dockerode';
import type { EngineFacts } from '../model/report.js';
import { MANAGED_LABEL } from './labels.js';

const START_ENGINE =
  'Start one (on GitHub-hosted runners it is already running; locally `sudo systemctl start docker`, ' +
  'or `bash scripts/engine.sh` in this repository) or point DOCKER_HOST at it.';

export class EngineUnreachableError extends Error {
  constructor(cause: unknown) {
    super(`No Docker engine answers at ${engineAddress()} (${messageOf(cause)}). ${START_ENGINE}`);
    this.name = 'EngineUnreachableError';
  }
}

/** The engine answered at first, then went away (stopped, restarted, or stopped answering). */
export class EngineLostError extends Error {
  constructor(during: string, cause: unknown) {
    super(
      `Lost the Docker engine at ${engineAddress()} during "${during}" (${messageOf(cause)}): did it stop, ` +
        'restart or run out of memory? Check it (`docker info`, the engine log) and run slimpy again. What this ' +
        `run left on the engine carries the label ${MANAGED_LABEL}=true; the action's post step removes it.`,
    );
    this.name = 'EngineLostError';
  }
}

/** Longest wait for the engine's short answers (info, ping); env `SLIMPY_ENGINE_TIMEOUT_MS`, default 60 s. */
export function engineTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const value = Number(env.SLIMPY_ENGINE_TIMEOUT_MS?.trim() || NaN);
  return Number.isFinite(value) && value > 0 ? value : 60_000;
}

/**
 * True for the errors a request gets when the connection to the engine breaks or cannot be made
 * (socket closed mid-response, refused, gone), as opposed to an answer from the engine.
 */
export function isConnectionError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message, statusCode } = error as {
    code?: unknown;
    message?: unknown;
    statusCode?: unknown;
  };
  if (typeof statusCode === 'number') return false;
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  return typeof message === 'string' && /^(aborted|socket hang up)$/.test(message);
}

const CONNECTION_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ENOENT',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

function engineAddress(): string {
  return process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A client for the engine named by DOCKER_HOST (dockerode reads it), else the local socket. */
export function connectEngine(): Docker {
  return new Docker();
}

interface RawInfo {
  ServerVersion?: string;
  Driver?: string;
  DriverStatus?: Array<[string, string]>;
}

/** dockerode passes an abort signal on for info, version and ping; its types leave it out. */
interface AbortableQueries {
  info(options: { abortSignal: AbortSignal }): Promise<RawInfo>;
  version(options: { abortSignal: AbortSignal }): Promise<{ ApiVersion: string }>;
  ping(options: { abortSignal: AbortSignal }): Promise<unknown>;
}

/** Resolves when the engine answers a ping within `timeoutMs`; rejects otherwise. */
export async function pingEngine(docker: Docker, timeoutMs: number): Promise<void> {
  await (docker as unknown as AbortableQueries).ping({
    abortSignal: AbortSignal.timeout(timeoutMs),
  });
}

/** Asks the engine what it is. Throws EngineUnreachableError when nothing answers. */
export async function engineFacts(
  docker: Docker,
): Promise<Omit<EngineFacts, 'builder' | 'builderReason'>> {
  let info: RawInfo;
  let apiVersion: string;
  // A socket that accepts and never answers must not hold the run forever.
  const timeoutMs = engineTimeoutMs();
  try {
    const engine = docker as unknown as AbortableQueries;
    info = await engine.info({ abortSignal: AbortSignal.timeout(timeoutMs) });
    apiVersion = (await engine.version({ abortSignal: AbortSignal.timeout(timeoutMs) })).ApiVersion;
  } catch (error) {
    const timedOut = (error as { name?: unknown }).name === 'AbortError';
    throw new EngineUnreachableError(timedOut ? `no answer within ${timeoutMs / 1000} s` : error);
  }
  return {
    version: info.ServerVersion ?? 'unknown',
    apiVersion,
    store: imageStoreOf(info),
    storageDriver: info.Driver ?? 'unknown',
  };
}

/** With the containerd image store the engine reports the snapshotter as its driver type. */
export function imageStoreOf(info: RawInfo): EngineFacts['store'] {
  const driverType = info.DriverStatus?.find(([key]) => key === 'driver-type')?.[1] ?? '';
  return driverType.startsWith('io.containerd.snapshotter') ? 'containerd' : 'classic';
}

/** Compares dotted versions numerically (`20.10.24+dfsg1` < `27.5.0`). */
export function versionAtLeast(version: string, minimum: string): boolean {
  const parts = (v: string): number[] =>
    (v.match(/^\d+(\.\d+)*/)?.[0] ?? '0').split('.').map(Number);
  const a = parts(version);
  const b = parts(minimum);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0);
    if (diff !== 0) return diff > 0;
  }
  return true;
}

export interface BuilderChoice {
  builder: EngineFacts['builder'];
  reason?: string;
}

/**
 * BuildKit where it works. On the containerd image store, Engines before 27.5 fail BuildKit
 * builds sent as a tar body ("failed to load cache key", moby/moby#47717), so slimpy uses the
 * classic builder there.
 */
export function chooseBuilder(
  facts: Pick<EngineFacts, 'version' | 'apiVersion' | 'store'>,
): BuilderChoice {
  if (!versionAtLeast(facts.apiVersion, '1.39')) {
    return {
      builder: 'classic',
      reason: `Engine API ${facts.apiVersion} predates BuildKit (API 1.39)`,
    };
  }
  if (facts.store === 'containerd' && !versionAtLeast(facts.version, '27.5')) {
    return {
      builder: 'classic',
      reason:
        `Engine ${facts.version} with the containerd image store cannot run BuildKit builds sent through ` +
        'the API (moby/moby#47717, fixed in Engine 27.5); using the classic builder. Dockerfiles that need ' +
        'BuildKit (RUN --mount, COPY --link, heredocs) need Engine >= 27.5 on this store.',
    };
  }
  return { builder: 'buildkit' };
}
