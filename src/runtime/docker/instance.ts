import type Docker from 'dockerode';
import { labelledInstance } from '../labelled-instance.js';
import { NO_POWERS } from '../launch-allowance.js';
import { powersBeyond } from './launch-powers.js';
import { LABEL_HOST_PORT, type Instance, type InstanceHealth, type InstanceState } from '../runtime.js';

const STATES: readonly InstanceState[] = ['created', 'running', 'paused', 'restarting', 'exited', 'dead', 'removing'];
const HEALTHS: readonly InstanceHealth[] = ['none', 'starting', 'healthy', 'unhealthy'];

/** Docker's zero time, which it reports for a container that never started. */
const NEVER = '0001-01-01T00:00:00Z';

/**
 * A container's inspect document → berth's Instance. Pure. With the powers over the host its
 * HostConfig gives (Instance.hostPowers), from the inspect already read: no engine call of its own.
 */
export function toInstance(info: Docker.ContainerInspectInfo, dialHost = '127.0.0.1'): Instance {
  const labels = info.Config.Labels ?? {};
  const state = STATES.find((s) => s === info.State.Status) ?? 'dead';
  const health = HEALTHS.find((h) => h === info.State.Health?.Status) ?? 'none';
  const instance = labelledInstance(info.Id, info.Name.replace(/^\//, ''), labels, state, health);
  if (state === 'running') {
    const address = publishedAddress(info, dialHost);
    if (address) instance.address = address;
  }
  if (info.State.StartedAt && info.State.StartedAt !== NEVER) instance.startedAt = new Date(info.State.StartedAt);
  if (state === 'exited' || state === 'dead') instance.exitCode = info.State.ExitCode;
  if ((state === 'exited' || state === 'dead') && info.State.OOMKilled) instance.oomKilled = true;
  // What a gateway that finds it exited can tell of its end (see adoptedExit).
  if ((state === 'exited' || state === 'dead') && info.State.FinishedAt && info.State.FinishedAt !== NEVER) instance.finishedAt = new Date(info.State.FinishedAt);
  // A start the engine refused leaves the container `created`, with the engine's error.
  if ((state === 'exited' || state === 'dead' || state === 'created') && info.State.Error) instance.engineError = info.State.Error;
  const powers = powersBeyond(info.HostConfig, NO_POWERS);
  if (powers.length > 0) instance.hostPowers = powers;
  return instance;
}

/**
 * A container that was created and never started, from the engine's list summary
 * alone: what toInstance would make of its inspect document (no start time, exit
 * code, health or address yet). Pure.
 */
export function createdInstance(summary: Docker.ContainerInfo): Instance {
  return labelledInstance(summary.Id, (summary.Names?.[0] ?? summary.Id).replace(/^\//, ''), summary.Labels ?? {}, 'created', 'none');
}

/**
 * Where berth dials the app's published port: `dialHost` (addresses.ts), at the host
 * port the engine picked. Only the ports berth bound (HostConfig.PortBindings) count:
 * an image may EXPOSE others. Engine 20.10 may list an extra `::` binding next to the
 * IPv4 one; berth takes the IPv4 one.
 */
export function publishedAddress(info: Docker.ContainerInspectInfo, dialHost = '127.0.0.1'): { host: string; port: number } | undefined {
  if (info.HostConfig?.NetworkMode === 'host') {
    // On the host network the app's own port is the host's: nothing is published.
    const port = hostNetworkPort(info);
    return port > 0 ? { host: dialHost, port } : undefined;
  }
  const published = info.NetworkSettings?.Ports ?? {};
  for (const key of Object.keys(info.HostConfig?.PortBindings ?? {})) {
    const bindings = published[key] ?? [];
    const ipv4 = bindings.find((b) => !b.HostIp.includes(':')) ?? bindings[0];
    const port = Number(ipv4?.HostPort);
    if (port > 0) return { host: dialHost, port };
  }
  return undefined;
}

/**
 * The app's port of a container on the host network: its label (LABEL_HOST_PORT), or
 * for a container made before berth set it, the first exposed port. NaN when none.
 */
export function hostNetworkPort(info: Docker.ContainerInspectInfo): number {
  const labelled = info.Config.Labels?.[LABEL_HOST_PORT];
  if (labelled !== undefined) return Number(labelled);
  return Number(Object.keys(info.Config.ExposedPorts ?? {})[0]?.split('/')[0]);
}
