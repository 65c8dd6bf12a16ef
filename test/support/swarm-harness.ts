import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import { createDockerClient, resolveDockerEndpoint } from '../../src/runtime/docker/client.js';

const run = promisify(execFile);

/** scripts/swarm-harness.sh of this checkout (this file runs as dist/test/support/swarm-harness.js). */
const SCRIPT = fileURLToPath(new URL('../../../scripts/swarm-harness.sh', import.meta.url));

export type SwarmNodeRole = 'manager' | 'worker';

/**
 * A two-node swarm made for a test file by scripts/swarm-harness.sh: two dockerds,
 * each in a network namespace of its own, joined as manager and worker. Only
 * `down()` is needed to remove everything; `up()` removes a crashed run's leftovers first.
 */
export class SwarmHarness {
  private readonly clients = new Map<SwarmNodeRole, Docker>();

  private constructor(
    private readonly env: Record<string, string>,
    private readonly scriptEnv: NodeJS.ProcessEnv,
  ) {}

  /** Makes the swarm and loads `images` from the main engine into both nodes. */
  static async up(images: string[], options: { name?: string; net?: string } = {}): Promise<SwarmHarness> {
    const scriptEnv = { ...process.env, ...(options.name ? { BERTH_SWARM_NAME: options.name } : {}), ...(options.net ? { BERTH_SWARM_NET: options.net } : {}) };
    try {
      const { stdout } = await run('bash', [SCRIPT, 'up', ...images], { env: scriptEnv, maxBuffer: 1 << 20, timeout: 180_000 });
      const env = Object.fromEntries(stdout.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
      return new SwarmHarness(env, scriptEnv);
    } catch (err) {
      await run('bash', [SCRIPT, 'down'], { env: scriptEnv, timeout: 120_000 }).catch(() => undefined);
      const e = err as { stderr?: string; message: string };
      throw new Error(`making the test swarm failed: ${e.message}\n${e.stderr ?? ''}`);
    }
  }

  /** The manager's Engine API, as the gateway config's `docker` names it. */
  get managerUrl(): string {
    return this.value('BERTH_SWARM_MANAGER');
  }

  nodeName(role: SwarmNodeRole): string {
    return this.value(role === 'manager' ? 'BERTH_SWARM_MANAGER_NODE' : 'BERTH_SWARM_WORKER_NODE');
  }

  /** Where the main namespace reaches the node's published ports. */
  address(role: SwarmNodeRole): string {
    return this.value(role === 'manager' ? 'BERTH_SWARM_MANAGER_ADDRESS' : 'BERTH_SWARM_WORKER_ADDRESS');
  }

  docker(role: SwarmNodeRole = 'manager'): Docker {
    let client = this.clients.get(role);
    if (!client) {
      client = createDockerClient(resolveDockerEndpoint(this.value(role === 'manager' ? 'BERTH_SWARM_MANAGER' : 'BERTH_SWARM_WORKER')));
      this.clients.set(role, client);
    }
    return client;
  }

  /** Sets a node's availability (active, pause, drain) through the manager. */
  async availability(role: SwarmNodeRole, availability: 'active' | 'pause' | 'drain'): Promise<void> {
    const node = this.docker().getNode(this.nodeName(role));
    const info = (await node.inspect()) as { Version: { Index: number }; Spec: Record<string, unknown> };
    await node.update({ ...info.Spec, Availability: availability, version: info.Version.Index } as never);
  }

  /** The node id of `role`. */
  async nodeId(role: SwarmNodeRole): Promise<string> {
    return ((await this.docker().getNode(this.nodeName(role)).inspect()) as { ID: string }).ID;
  }

  async down(): Promise<void> {
    await run('bash', [SCRIPT, 'down'], { env: this.scriptEnv, timeout: 120_000 });
  }

  private value(key: string): string {
    const v = this.env[key];
    if (!v) throw new Error(`swarm-harness.sh printed no ${key}`);
    return v;
  }
}
