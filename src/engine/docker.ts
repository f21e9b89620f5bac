/** Connecting to the engine and learning what it is: version, image store, builder. */
import Docker from 'dockerode';
import type { EngineFacts } from '../report/model.js';

export class EngineUnreachableError extends Error {
  constructor(cause: unknown) {
    const where = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
    super(
      `No Docker engine answers at ${where} (${cause instanceof Error ? cause.message : String(cause)}). ` +
        'Start one (on GitHub-hosted runners it is already running; locally `sudo systemctl start docker`, ' +
        'or `bash scripts/engine.sh` in this repository) or point DOCKER_HOST at it.',
    );
    this.name = 'EngineUnreachableError';
  }
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

/** Asks the engine what it is. Throws EngineUnreachableError when nothing answers. */
export async function engineFacts(
  docker: Docker,
): Promise<Omit<EngineFacts, 'builder' | 'builderReason'>> {
  let info: RawInfo;
  let apiVersion: string;
  try {
    info = (await docker.info()) as RawInfo;
    apiVersion = (await docker.version()).ApiVersion;
  } catch (error) {
    throw new EngineUnreachableError(error);
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
