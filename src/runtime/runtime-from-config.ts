import type { GatewayConfig } from '../config/config.js';
import { DockerRuntime } from './docker/docker-runtime.js';
import { SwarmRuntime } from './swarm/swarm-runtime.js';
import { LABEL_STORE, type Runtime, type RuntimeHooks } from './runtime.js';

/**
 * The runtime the config's `runtime` names, on the engine its `docker` names: the
 * local Docker runtime (the default) or the Swarm one. `extraLabels` go on every
 * object it makes besides the store's (tests add theirs).
 */
export function runtimeFromConfig(config: GatewayConfig, hooks: RuntimeHooks, extraLabels: Record<string, string> = {}): Runtime {
  const common = {
    docker: config.docker,
    extraLabels: { ...extraLabels, [LABEL_STORE]: hooks.storeId },
    defaultResources: hooks.defaultResources,
    inputUrl: hooks.inputUrl,
    secretPolicy: hooks.secretPolicy,
    bindMountRoots: hooks.bindMountRoots,
    launchPolicy: hooks.launchPolicy,
    engineTimeoutMs: config.timeouts.engineMs,
    onEventStreamError: hooks.onEventStreamError,
  };
  if (config.runtime === 'swarm') {
    return new SwarmRuntime({ ...common, swarm: { nodeAddresses: config.swarm.nodeAddresses, taskPollMs: config.swarm.taskPollMs, ...(config.swarm.volumeNode ? { volumeNode: config.swarm.volumeNode } : {}) } });
  }
  return new DockerRuntime({ ...common, upstreamHost: config.upstreamHost, publishHost: config.publishHost, appsNetwork: config.appsNetwork });
}
