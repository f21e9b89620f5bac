/** The machine the figures were measured on, printed with every table. */
import os from 'node:os';
import type Docker from 'dockerode';
import { chooseBuilder, engineFacts } from '../src/engine/docker.js';
import type { MachineFacts } from './results.js';

export async function machineFacts(docker: Docker, baseImage: string): Promise<MachineFacts> {
  const facts = await engineFacts(docker);
  return {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryBytes: os.totalmem(),
    loadAtStart: loadAverage(),
    kernel: os.release(),
    node: process.version,
    engine: { ...facts, builder: chooseBuilder(facts).builder },
    baseImage,
  };
}

export function loadAverage(): number[] {
  return os.loadavg().map((n) => Math.round(n * 100) / 100);
}
