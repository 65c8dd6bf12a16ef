import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { ConfigError } from '../../errors.js';
import type { SpecIssue } from '../../spec/path.js';
import type { AppSpec } from '../../spec/types.js';
import type { Instance, Runtime, RuntimeEvent, StartOptions } from '../runtime.js';
import { hostAddresses } from '../docker/addresses.js';
import { createDockerClient, resolveDockerEndpoint, type DockerEndpoint } from '../docker/client.js';
import type { DockerRuntimeOptions } from '../docker/docker-runtime.js';
import type { EventStreamErrorHandler } from '../docker/events.js';
import { imagePorts } from '../docker/image.js';
import { pingEngine } from '../docker/ping.js';
import { probeEngine } from '../docker/probe.js';
import { readTlsFiles, type TlsFiles } from '../docker/tls-files.js';
import type { SwarmContext, SwarmSettings } from './context.js';
import { ensureService } from './ensure.js';
import { watchSwarm } from './events.js';
import { inspectInstance, listInstances } from './list.js';
import { serviceLogs } from './logs.js';
import { NodeBook } from './nodes.js';
import { removeService } from './remove.js';
import { swarmIssue } from './service-spec.js';
import { startService, stopService } from './scale.js';

export interface SwarmRuntimeOptions extends Omit<DockerRuntimeOptions, 'upstreamHost' | 'publishHost' | 'appsNetwork' | 'allowPull'> {
  /** The config's swarm block; see SwarmSettings. */
  swarm?: Partial<SwarmSettings>;
}

/**
 * The Runtime on a Docker Swarm, over the manager's Engine API (the config's `docker`).
 * Each berth instance is a service labelled as berth's (`berth-<app>-<index>`), whose
 * task runs it: scale to zero is replicas 0, a wake sets replicas 1 and waits for the
 * task, the Swarm places it, restarts it and moves it off a drained node. The proxy
 * dials the task's port, published in host mode at its node's address (context.ts).
 * The constructor does no I/O.
 */
export class SwarmRuntime implements Runtime {
  readonly endpoint: DockerEndpoint;
  private readonly ctx: SwarmContext;
  private readonly nodes: NodeBook;
  private client: Docker | undefined;
  private tlsFiles: TlsFiles | undefined;
  private readonly onEventStreamError: EventStreamErrorHandler | undefined;

  constructor(options: SwarmRuntimeOptions = {}) {
    this.endpoint = resolveDockerEndpoint(options.docker, options.env);
    const defaults = options.defaultResources;
    this.onEventStreamError = options.onEventStreamError;
    this.ctx = {
      endpoint: this.endpoint,
      addresses: hostAddresses(this.endpoint),
      docker: () => (this.client ??= createDockerClient(this.endpoint, options.engineTimeoutMs)),
      extraLabels: { ...options.extraLabels },
      allowPull: false,
      defaultResources: typeof defaults === 'function' ? defaults : () => defaults,
      inputUrl: options.inputUrl,
      secretPolicy: options.secretPolicy,
      processEnv: options.secretEnv,
      bindMountRoots: options.bindMountRoots,
      swarm: {
        nodeAddresses: { ...options.swarm?.nodeAddresses },
        taskPollMs: options.swarm?.taskPollMs ?? 1_000,
        taskStartMs: options.swarm?.taskStartMs ?? 120_000,
        ...(options.swarm?.volumeNode ? { volumeNode: options.swarm.volumeNode } : {}),
      },
    };
    this.nodes = new NodeBook(this.ctx);
  }

  /** The engine answers and is a swarm manager (a worker or a lone engine cannot run services). */
  async ping(): Promise<void> {
    await pingEngine(this.ctx);
    const info = (await this.ctx.docker().info()) as { Swarm?: { ControlAvailable?: boolean; LocalNodeState?: string } };
    if (!info.Swarm?.ControlAvailable) {
      throw new ConfigError(
        `runtime: swarm, but the engine at ${this.endpoint.url} is not a swarm manager (swarm state: ${info.Swarm?.LocalNodeState || 'inactive'}); ` +
          'point docker: at a manager (docker swarm init makes one), or use runtime: docker',
      );
    }
  }

  probe(): Promise<void> {
    return probeEngine(this.endpoint, () => (this.tlsFiles ??= readTlsFiles(this.endpoint)));
  }

  ensure(app: AppSpec, index: number): Promise<Instance> {
    return ensureService(this.ctx, this.nodes, app, index);
  }

  start(id: string, options: StartOptions = {}): Promise<Instance> {
    return startService(this.ctx, this.nodes, id, options);
  }

  stop(id: string, options: { timeoutS?: number } = {}): Promise<void> {
    return stopService(this.ctx, this.nodes, id, options.timeoutS);
  }

  /** A task cannot be frozen: pausing scales to 0 like a stop (the next request wakes it). */
  pause(id: string): Promise<void> {
    return stopService(this.ctx, this.nodes, id);
  }

  remove(id: string, options: { purgeVolumes?: boolean } = {}): Promise<void> {
    return removeService(this.ctx, id, options.purgeVolumes ?? false);
  }

  list(filter: { app?: string } = {}): Promise<Instance[]> {
    return listInstances(this.ctx, this.nodes, filter);
  }

  inspect(id: string): Promise<Instance | undefined> {
    return inspectInstance(this.ctx, this.nodes, id);
  }

  logs(id: string, options: { tail?: number; follow?: boolean; signal?: AbortSignal } = {}): Promise<Readable> {
    return serviceLogs(this.ctx, id, options);
  }

  imagePorts(image: string): Promise<number[] | undefined> {
    return imagePorts(this.ctx, image);
  }

  specIssues(app: AppSpec): SpecIssue[] {
    const issue = swarmIssue(app);
    return issue ? [issue] : [];
  }

  events(signal: AbortSignal): AsyncIterable<RuntimeEvent> {
    return watchSwarm(this.ctx, this.nodes, signal, this.onEventStreamError);
  }
}
