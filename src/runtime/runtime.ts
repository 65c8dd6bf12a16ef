import type { Readable } from 'node:stream';
import type { LaunchAllowance } from './launch-allowance.js';
import type { AppSpec, ResourcesSpec } from '../spec/types.js';
import type { SecretPolicy } from '../spec/secret-policy.js';
import type { SpecIssue } from '../spec/path.js';

/**
 * The seam between berth's core and the engine that runs containers (Docker now,
 * Swarm later), in the spirit of Traefik's providers and Sablier's drivers: a
 * handful of verbs on a named workload plus an event stream. A Runtime is dumb;
 * the activator and reconciler own the policy (when to start, when to stop).
 *
 * A Runtime only ever touches objects carrying `berth.managed=true`.
 */
export interface Runtime {
  /** Fails with a RuntimeError saying what to do when the engine does not answer. */
  ping(): Promise<void>;

  /**
   * Whether the engine answers now, asked on a connection opened for this call
   * and bounded by a short timeout: an engine that answers on a kept-alive
   * connection may still leave every new one hanging. Rejects with an
   * EngineUnavailableError when it does not answer.
   */
  probe(): Promise<void>;

  /**
   * Makes sure the container for instance `index` of `app` exists at this spec:
   * creates it when missing, recreates it when its spec hash differs, adopts it
   * when it matches. Never starts it. A same-named container without berth's
   * label is a ConflictError and is left untouched.
   */
  ensure(app: AppSpec, index: number): Promise<Instance>;

  /**
   * Starts (or unpauses) the container and returns it with its published address.
   * A runtime whose start waits for the engine to place and run the instance (Swarm's
   * task) gives up once `timeoutMs` passed (the app's startTimeout left), with a
   * StartFailedError naming it, or once `signal` aborts (the start was called off).
   */
  start(id: string, options?: StartOptions): Promise<Instance>;

  /**
   * Stops the container, keeping it and its volume: SIGTERM, then SIGKILL once
   * `timeoutS` passed. Says whether it came to the kill, where the runtime can tell.
   */
  stop(id: string, options?: { timeoutS?: number }): Promise<StopOutcome | void>;

  /** Freezes the running container in memory; `start` wakes it (or `unpause`, with no look around it). */
  pause(id: string): Promise<void>;

  /**
   * Thaws a container this gateway paused itself, and does nothing else: no
   * inspect before or after, so it costs one engine call (a wake's fast path,
   * activator/wake-plan.ts). `id` must be one `pause` was given: its
   * berth.managed label was checked then, and an engine never reuses an id.
   * Rejects with NotFoundError when the container is gone and ConflictError
   * when it is no longer paused (stopped, restarted or unpaused behind berth's
   * back); the caller then takes the full path, `start`. A runtime whose
   * `pause` does not freeze (Swarm's stops) leaves it out.
   */
  unpause?(id: string): Promise<void>;

  /** Removes the container; the app's volume too when `purgeVolumes`. */
  remove(id: string, options?: { purgeVolumes?: boolean }): Promise<void>;

  /**
   * Removes the app's named volume (berth's own, used by no container) when there is one:
   * a delete with purgeVolumes of an app that has no container left (`removeAfter` took it,
   * or it went while the delete ran) has no remove to take the volume with it. A runtime
   * that cannot reach its volumes leaves it out.
   */
  purgeVolume?(app: string): Promise<void>;

  /**
   * berth-managed containers, of one app when `app` is given; `apps` narrows the answer
   * to those apps (a page of the app list), which a runtime may also ignore: callers
   * still match instances to apps themselves.
   */
  list(filter?: { app?: string; apps?: readonly string[] }): Promise<Instance[]>;

  /** One berth-managed container, or undefined when absent or not berth's. */
  inspect(id: string): Promise<Instance | undefined>;

  /** The container's stdout and stderr as text lines. */
  logs(id: string, options?: { tail?: number; follow?: boolean; signal?: AbortSignal }): Promise<Readable>;

  /**
   * The TCP ports the image EXPOSEs, ascending, read from the engine's local copy
   * (never pulled); undefined when the image is not on the engine's host. Apply
   * takes the port from here when a spec names none.
   */
  imagePorts(image: string): Promise<number[] | undefined>;

  /** Lifecycle events of berth-managed containers until `signal` aborts. */
  events(signal: AbortSignal): AsyncIterable<RuntimeEvent>;

  /**
   * What of a spec this runtime can never run, by field (Swarm: privileged,
   * hostNetwork, hostPid, input.as file), whatever the policy allows: an apply is
   * refused with them (422) rather than stored to fail at every wake. No I/O.
   */
  specIssues?(app: AppSpec): SpecIssue[];
}

/**
 * What only the running gateway knows and a runtime needs while it creates
 * containers; the gateway hands these to the runtime it builds (GatewayParts).
 */
export interface RuntimeHooks {
  /** The signed URL an app with `input.as: url` fetches its input (`json`) from. */
  inputUrl(app: string, json: string): string;
  /** The gateway's current defaults.resources, for limits a spec leaves unset. */
  defaultResources(): ResourcesSpec;
  /** The gateway's current policy.secretFiles / policy.secretEnv, for secret references read at create. */
  secretPolicy(): SecretPolicy;
  /** The policy's bindMountRoots as resolved when the config was loaded; checked at every create and start. */
  bindMountRoots(): readonly string[];
  /** The powers the policy lets a container have, checked at every start whoever made the container (launch-powers.ts). */
  launchPolicy?(): LaunchAllowance;
  /** The store's identity, to label every container with (`berth.store`; see LABEL_STORE). */
  storeId: string;
  /**
   * Told when the engine's event stream broke and is being reopened, for the log: what is
   * lost meanwhile is caught up by the resync, but the gateway must say it went deaf.
   * `again`: the previous reopen broke too (the engine is still in trouble).
   */
  onEventStreamError?(err: Error, retryInMs: number, again?: boolean): void;
}

export type InstanceState = 'created' | 'running' | 'paused' | 'restarting' | 'exited' | 'dead' | 'removing';

export type InstanceHealth = 'none' | 'starting' | 'healthy' | 'unhealthy';

export interface Instance {
  id: string;
  name: string;
  app: string;
  index: number;
  specHash: string;
  state: InstanceState;
  health: InstanceHealth;
  /** Where the proxy dials it: the dial host (127.0.0.1 for a local engine; see docker/addresses.ts) and the ephemeral published port. Set while running. */
  address?: { host: string; port: number };
  startedAt?: Date;
  exitCode?: number;
  /** Exited because the kernel killed it for going past its memory limit. */
  oomKilled?: boolean;
  /** When it last exited (the engine's State.FinishedAt); absent while it runs or when it never ran. */
  finishedAt?: Date;
  /** Why the engine could not run it, when it says (State.Error: an exec or mount failure at its last start). */
  engineError?: string;
  /** The `berth.store` label: the id of the store whose gateway made it; absent on containers of an older berth. */
  store?: string;
  /**
   * It no longer runs what berth made it with, though its labels say so: a Swarm
   * service edited behind berth's back (`docker service update`). The core brings
   * it back to the app's spec (see the `changed` event). Absent: as berth made it.
   */
  outdated?: boolean;
  /**
   * Every power over the host its engine config gives it (launch-powers.ts powersBeyond against
   * none, one phrase each: "privileged", "capability NET_ADMIN"…), as the runtime read them. One
   * running with a power its app's spec does not grant was made or started outside berth under
   * berth's labels, and is never adopted nor routed to (AppController.foreignRunning). Absent: none,
   * or not read (a never-started container from the engine's list, which its start checks).
   */
  hostPowers?: string[];
}

/**
 * `network`: a container joined or left a network (its published address may have
 * changed or gone). The engine's own event does not say whose container it is: the
 * Docker runtime looks that up and passes on berth's containers only, with their app.
 * `kill`: a signal was sent to the container (`signal`), by docker stop, kill or
 * restart, or by berth's own stop; its exit, if any, follows as a `die`.
 * `changed`: the instance was edited behind berth's back and no longer runs the
 * app's spec (a Swarm service changed by `docker service update`; Instance.outdated).
 */
/** What bounds a start: see Runtime.start. */
export interface StartOptions {
  /** Most time the start may wait for the engine to run the instance: what is left of the app's startTimeout. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** What a stop came to. */
export interface StopOutcome {
  /** The app did not exit within the stop timeout of its SIGTERM: it was killed (it lost the chance to finish its work). */
  killed: boolean;
}

export type RuntimeEventKind = 'start' | 'die' | 'stop' | 'pause' | 'unpause' | 'destroy' | 'health' | 'oom' | 'network' | 'kill' | 'changed';

export interface RuntimeEvent {
  kind: RuntimeEventKind;
  app: string;
  instanceId: string;
  time: Date;
  exitCode?: number;
  health?: InstanceHealth;
  /** Of a `kill`: the signal's number. */
  signal?: number;
}

/** Labels berth puts on every object it creates; the only way it recognizes its own. */
export const LABEL_MANAGED = 'berth.managed';
export const LABEL_APP = 'berth.app';
export const LABEL_INDEX = 'berth.index';
export const LABEL_SPEC_HASH = 'berth.spec-hash';
/**
 * The app's port on a container on the host network, where nothing is published: the
 * container's ExposedPorts also hold the image's own, listed in name order, so the
 * first of them is not necessarily the app's ("80/tcp" sorts before "8080/tcp").
 */
export const LABEL_HOST_PORT = 'berth.host-port';
/** The id of the store whose gateway made the object: a gateway never touches another store's containers. */
export const LABEL_STORE = 'berth.store';

/** How an instance's own exit is told, to operators and to the app's clients alike: the same words wherever it is seen. */
export function containerExited(exitCode: number | string | undefined): string {
  return `the container exited with code ${exitCode ?? '?'}`;
}
