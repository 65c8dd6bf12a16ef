/**
 * The engine's side of the app count: dockerd's RSS, `docker ps -a` time, and what
 * one `docker create` costs, measured with many created containers.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import { median } from './lib/stats.js';
import { vmRssKb } from './app-count-gateway.js';

const run = promisify(execFile);

/** The dockerd process (its pid file, or the first process named dockerd). */
export function dockerdPid(): number {
  try {
    const pid = Number(readFileSync('/var/run/docker.pid', 'utf8').trim());
    if (pid > 0 && vmRssKb(pid) > 0) return pid;
  } catch {
    // no pid file: look for it
  }
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'dockerd') return Number(entry);
    } catch {
      // gone
    }
  }
  return 0;
}

export interface EngineFigures {
  containers: number;
  dockerdRssMb: number;
  /** Median of 3 runs of `docker ps -a` (the CLI, all containers, full table). */
  psAllMs: number;
}

export async function engineFigures(): Promise<EngineFigures> {
  const times: number[] = [];
  let containers = 0;
  for (let i = 0; i < 3; i++) {
    const began = performance.now();
    const { stdout } = await run('docker', ['ps', '-a'], { maxBuffer: 256 * 1024 * 1024 });
    times.push(performance.now() - began);
    containers = stdout.trim().split('\n').length - 1;
  }
  return { containers, dockerdRssMb: vmRssKb(dockerdPid()) / 1024, psAllMs: median(times) };
}

export interface CreateFigures {
  created: number;
  /** Median ms of one `docker create` (Engine API), 4 at a time. */
  createMs: number;
  before: EngineFigures;
  after: EngineFigures;
  /** dockerd RSS per created container, KB. */
  dockerdKbPerContainer: number;
  /** `docker ps -a` ms per 1,000 containers. */
  psMsPer1000: number;
}

/** Creates `n` containers of `image` labelled `labels` (never started), measuring the engine before and after. */
export async function measureCreates(docker: Docker, image: string, labels: Record<string, string>, n: number, prefix: string): Promise<CreateFigures> {
  const before = await engineFigures();
  const times: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const began = performance.now();
      await docker.createContainer({ name: `${prefix}-${i}`, Image: image, Labels: labels, HostConfig: { PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } }, ExposedPorts: { '8080/tcp': {} } });
      times.push(performance.now() - began);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  const after = await engineFigures();
  const added = after.containers - before.containers || n;
  return {
    created: n,
    createMs: median(times),
    before,
    after,
    dockerdKbPerContainer: ((after.dockerdRssMb - before.dockerdRssMb) * 1024) / added,
    psMsPer1000: ((after.psAllMs - before.psAllMs) / added) * 1000,
  };
}
