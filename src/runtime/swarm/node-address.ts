import type { SwarmNode } from './wire.js';

/** The node label naming where berth dials the node's host-published ports. */
export const LABEL_NODE_ADDRESS = 'berth.address';

/**
 * Where berth dials the ports a node publishes: the config's swarm.nodeAddresses by
 * hostname or node id, else the node's `berth.address` label, else the address the
 * node joined the swarm with (right when the gateway sits on the swarm's network).
 * Undefined when none is known. Pure.
 */
export function nodeAddress(node: SwarmNode, configured: Readonly<Record<string, string>>): string | undefined {
  const hostname = node.Description?.Hostname;
  const byName = hostname === undefined ? undefined : configured[hostname];
  const joined = node.Status?.Addr;
  return configured[node.ID] ?? byName ?? node.Spec?.Labels?.[LABEL_NODE_ADDRESS] ?? (joined && joined !== '0.0.0.0' ? joined : undefined);
}
