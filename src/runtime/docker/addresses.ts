import type { DockerEndpoint } from './client.js';

/** Where berth asks the engine to publish app ports, and where it dials them. */
export interface HostAddresses {
  /** HostIp of each container's port binding. */
  publishHost: string;
  /** The host the proxy and readiness probes connect to. */
  dialHost: string;
}

export interface AddressSettings {
  /** The config's `upstreamHost`: where published ports are dialled; wins over everything. */
  upstreamHost?: string;
  /** The config's `publishHost`: the engine host's address ports are published on. */
  publishHost?: string;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '[::]']);

/** A tcp engine on this machine is as local as the socket: its published loopback ports are ours. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Publish and dial hosts for an engine. Pure. A local engine (unix socket, or tcp on
 * loopback) publishes on 127.0.0.1 and is dialled there, so apps are reachable only
 * through berth. A remote tcp engine's loopback is not ours: ports are published on
 * every address of its host (or on `publishHost`) and dialled at the engine's host
 * name, unless `upstreamHost` names another way there (a private address, say).
 */
export function hostAddresses(endpoint: DockerEndpoint, settings: AddressSettings = {}): HostAddresses {
  const local = endpoint.kind === 'unix' || isLoopbackHost(endpoint.host ?? '');
  const publishHost = settings.publishHost ?? (local ? '127.0.0.1' : '0.0.0.0');
  const specific = !WILDCARDS.has(publishHost) && !isLoopbackHost(publishHost) ? publishHost : undefined;
  const dialHost = settings.upstreamHost ?? specific ?? (local ? '127.0.0.1' : endpoint.host ?? '127.0.0.1');
  return { publishHost, dialHost };
}
