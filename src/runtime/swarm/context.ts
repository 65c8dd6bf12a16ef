import type { DockerContext } from '../docker/context.js';

/** Where berth dials the tasks a node runs, and which node holds the data of apps with a volume. */
export interface SwarmSettings {
  /**
   * Address berth dials for each node's host-published ports, by node hostname or
   * node id (the config's swarm.nodeAddresses). A node not named here is dialled at
   * its `berth.address` node label, else at the address it joined the swarm with.
   */
  nodeAddresses: Readonly<Record<string, string>>;
  /** Hostname or id of the node apps with a volume are pinned to; default: the manager berth talks to. */
  volumeNode?: string;
  /** How often the tasks are listed to notice tasks that started, died or moved. */
  taskPollMs: number;
  /** Most time a wake waits for the Swarm to run a task before it is a failed start. */
  taskStartMs: number;
}

/**
 * What every Swarm operation needs: the Docker context (the same Engine API client,
 * errors, labels and policy hooks as the local runtime) plus the Swarm's own settings.
 */
export interface SwarmContext extends DockerContext {
  readonly swarm: SwarmSettings;
}
