import type { Readable } from 'node:stream';
import type { LaunchAllowance } from '../launch-allowance.js';
import type Docker from 'dockerode';
import type { SecretPolicy } from '../../spec/secret-policy.js';
import type { AppSpec, ResourcesSpec } from '../../spec/types.js';
import type { Instance, Runtime, RuntimeEvent, StopOutcome } from '../runtime.js';
import { appsNetworkOf } from './apps-network.js';
import { hostAddresses, type AddressSettings } from './addresses.js';
import { createDockerClient, resolveDockerEndpoint, type DockerEndpoint } from './client.js';
import type { DockerContext } from './context.js';
import { ensureContainer } from './ensure.js';
import { watchEvents, watchNetworkEvents, type EventStreamErrorHandler } from './events.js';
import { mergeEvents } from '../merge-events.js';
import { managedNetworkEvents } from './managed-network-events.js';
import { imagePorts } from './image.js';
import { inspectInstance } from './inspect.js';
import { listInstances } from './list.js';
import { containerLogs } from './logs.js';
import { pauseContainer } from './pause.js';
import { pingEngine } from './ping.js';
import { probeEngine } from './probe.js';
import { removeContainer } from './remove.js';
import { purgeVolume } from './volume.js';
import { startContainer } from './start.js';
import { stopContainer } from './stop.js';
import { unpauseContainer } from './unpause.js';
import { readTlsFiles, type TlsFiles } from './tls-files.js';

export interface DockerRuntimeOptions {
  /**
   * The engine: `unix:///var/run/docker.sock` or `tcp://host:2375` (the gateway
   * config's `docker`). When absent, DOCKER_HOST is honoured, then the local socket.
   */
  docker?: string;
  /** Environment to read DOCKER_HOST / DOCKER_TLS_VERIFY / DOCKER_CERT_PATH from. Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** Labels added to every container and volume berth creates, e.g. `{ 'berth.test': 'true' }` in tests. */
  extraLabels?: Record<string, string>;
  /** Pull images missing on the host. Default false: berth runs only images built or loaded locally. */
  allowPull?: boolean;
  /** Told when the event stream broke and is being reopened (for logging). */
  onEventStreamError?: EventStreamErrorHandler;
  /**
   * Limits for containers whose spec leaves them unset (the gateway's
   * defaults.resources), or a function giving the current ones (so a reload counts).
   * Applied when a container is created; existing containers keep theirs.
   */
  defaultResources?: ResourcesSpec | (() => ResourcesSpec | undefined);
  /** The signed URL an app with `input.as: url` fetches its input from (RuntimeHooks.inputUrl). */
  inputUrl?: (app: string, json: string) => string;
  /**
   * The gateway's current policy.secretFiles and policy.secretEnv (RuntimeHooks.secretPolicy),
   * checked at every create before a secret reference is read. Absent: all denied.
   */
  secretPolicy?: () => SecretPolicy;
  /** Where `env.X.fromEnv` is read from. Default: process.env (the gateway's own environment). */
  secretEnv?: NodeJS.ProcessEnv;
  /**
   * The current policy.bindMountRoots (RuntimeHooks.bindMountRoots): bind-mount sources
   * are resolved and checked against them before every create and start. Leave it out
   * only where no policy applies (tests of the runtime itself).
   */
  bindMountRoots?: () => readonly string[];
  /** The powers the policy lets a container have (RuntimeHooks.launchPolicy), checked at every start. */
  launchPolicy?: () => LaunchAllowance;
  /**
   * Bound on each Engine API call (the config's timeouts.engine); a stop call gets its
   * grace period on top, streams are bounded until they answer. Default 30 s.
   */
  engineTimeoutMs?: number;
  /** The config's `upstreamHost` and `publishHost`; see addresses.ts. */
  upstreamHost?: string;
  publishHost?: string;
  /** The network apps join, aliased by their names, to reach each other (the config's appsNetwork). Default berth-apps. */
  appsNetwork?: string;
}

/**
 * The Runtime on a Docker engine, over the Engine API. Each verb lives in its own file
 * (ensure.ts, start.ts, …); this class only wires them to one shared context.
 * The constructor does no I/O: the connection is opened on first use.
 */
export class DockerRuntime implements Runtime {
  readonly endpoint: DockerEndpoint;
  private readonly ctx: DockerContext;
  private client: Docker | undefined;
  private readonly onEventStreamError: EventStreamErrorHandler | undefined;
  private tlsFiles: TlsFiles | undefined;

  constructor(options: DockerRuntimeOptions = {}) {
    this.endpoint = resolveDockerEndpoint(options.docker, options.env);
    const engineTimeoutMs = options.engineTimeoutMs;
    this.onEventStreamError = options.onEventStreamError;
    const defaults = options.defaultResources;
    const settings: AddressSettings = {};
    if (options.upstreamHost !== undefined) settings.upstreamHost = options.upstreamHost;
    if (options.publishHost !== undefined) settings.publishHost = options.publishHost;
    this.ctx = {
      endpoint: this.endpoint,
      addresses: hostAddresses(this.endpoint, settings),
      appsNetwork: appsNetworkOf(options.appsNetwork),
      docker: () => (this.client ??= createDockerClient(this.endpoint, engineTimeoutMs)),
      extraLabels: { ...options.extraLabels },
      allowPull: options.allowPull ?? false,
      defaultResources: typeof defaults === 'function' ? defaults : () => defaults,
      inputUrl: options.inputUrl,
      secretPolicy: options.secretPolicy,
      processEnv: options.secretEnv,
      bindMountRoots: options.bindMountRoots,
      launchPolicy: options.launchPolicy,
    };
  }

  ping(): Promise<void> {
    return pingEngine(this.ctx);
  }

  probe(): Promise<void> {
    return probeEngine(this.endpoint, () => (this.tlsFiles ??= readTlsFiles(this.endpoint)));
  }

  ensure(app: AppSpec, index: number): Promise<Instance> {
    return ensureContainer(this.ctx, app, index);
  }

  start(id: string): Promise<Instance> {
    return startContainer(this.ctx, id);
  }

  stop(id: string, options: { timeoutS?: number } = {}): Promise<StopOutcome> {
    return stopContainer(this.ctx, id, options.timeoutS);
  }

  pause(id: string): Promise<void> {
    return pauseContainer(this.ctx, id);
  }

  unpause(id: string): Promise<void> {
    return unpauseContainer(this.ctx, id);
  }

  remove(id: string, options: { purgeVolumes?: boolean } = {}): Promise<void> {
    return removeContainer(this.ctx, id, options.purgeVolumes ?? false);
  }

  purgeVolume(app: string): Promise<void> {
    return purgeVolume(this.ctx, app);
  }

  list(filter: { app?: string; apps?: readonly string[] } = {}): Promise<Instance[]> {
    return listInstances(this.ctx, filter);
  }

  inspect(id: string): Promise<Instance | undefined> {
    return inspectInstance(this.ctx, id);
  }

  logs(id: string, options: { tail?: number; follow?: boolean; signal?: AbortSignal } = {}): Promise<Readable> {
    return containerLogs(this.ctx, id, options);
  }

  imagePorts(image: string): Promise<number[] | undefined> {
    return imagePorts(this.ctx, image);
  }

  events(signal: AbortSignal): AsyncIterable<RuntimeEvent> {
    // Network events name any container on the host: only berth's are passed on, as for container events.
    const network = managedNetworkEvents(this.ctx, watchNetworkEvents(this.ctx, signal, this.onEventStreamError));
    return mergeEvents([watchEvents(this.ctx, signal, this.onEventStreamError), network]);
  }
}
