import type { SwarmContext } from './context.js';
import { listNodes } from './engine.js';
import { nodeAddress } from './node-address.js';
import type { SwarmNode } from './wire.js';

/**
 * The swarm's nodes as last listed, for the address of each task. Listed again when
 * a task runs on a node not known yet, and when the node event stream says one changed.
 */
export class NodeBook {
  private nodes = new Map<string, SwarmNode>();

  constructor(private readonly ctx: SwarmContext) {}

  async refresh(): Promise<void> {
    this.nodes = new Map((await listNodes(this.ctx)).map((n) => [n.ID, n]));
  }

  /** The dial address of `nodeId`, listing the nodes again when it is not known. */
  async addressOf(nodeId: string): Promise<string | undefined> {
    if (!this.nodes.has(nodeId)) await this.refresh();
    return this.known(nodeId);
  }

  /** From what was listed last; no I/O. */
  known(nodeId: string): string | undefined {
    const node = this.nodes.get(nodeId);
    return node ? nodeAddress(node, this.ctx.swarm.nodeAddresses) : undefined;
  }

  /**
   * Whether the node cannot report on its tasks, from what was listed last: its state
   * is not `ready` (down, disconnected, unknown), or it left the swarm. No I/O.
   */
  down(nodeId: string): boolean {
    return this.nodes.get(nodeId)?.Status?.State !== 'ready';
  }

  /** The node's hostname (what `docker node ls` shows), else its id; from what was listed last. */
  nameOf(nodeId: string): string {
    return this.nodes.get(nodeId)?.Description?.Hostname || nodeId;
  }

  /** Every node, as listed last. */
  all(): SwarmNode[] {
    return [...this.nodes.values()];
  }

  /** The node by hostname or id, from what was listed last. */
  find(hostnameOrId: string): SwarmNode | undefined {
    return this.nodes.get(hostnameOrId) ?? [...this.nodes.values()].find((n) => n.Description?.Hostname === hostnameOrId);
  }
}
