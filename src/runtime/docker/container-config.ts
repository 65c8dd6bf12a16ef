import type Docker from 'dockerode';
import type { EnvValue } from '../../spec/env-value.js';
import type { AppSpec, ResourcesSpec } from '../../spec/types.js';
import { containerSpecHash } from '../../spec/hash.js';
import { LABEL_HOST_PORT, LABEL_SPEC_HASH } from '../runtime.js';
import { inputEnv } from './input.js';
import { containerName, ownerLabels, volumeName } from './names.js';

export interface ContainerConfigOptions {
  /** Labels added to every container berth creates (tests add `berth.test=true`). */
  extraLabels?: Record<string, string>;
  /**
   * The gateway's defaults.resources, for the limits the spec leaves unset. Not part
   * of the spec hash label: changing the defaults does not recreate containers that
   * exist, it applies to containers created from then on.
   */
  defaultResources?: ResourcesSpec;
  /** The signed URL the gateway serves this app's input at; needed when `input.as` is `url`. */
  inputUrl?: string;
  /** The values of the spec's secret references (`fromFile`, `fromEnv`), resolved just before create (resolveSecretRefs). */
  secretValues?: Record<string, string>;
  /** HostIp of the port binding (addresses.ts); default 127.0.0.1. Not in the spec hash: existing containers keep theirs. */
  publishHost?: string;
  /** Bounds on the container's log (log-config.ts); absent: the engine's default. Not in the spec hash either. */
  logConfig?: Docker.HostConfig['LogConfig'];
  /** CPUs of the engine's host (`docker info` NCPU); absent: unknown, the CPU limit is passed as asked. Not in the spec hash. */
  hostCpus?: number | undefined;
}

/** Docker's name for the host as seen from a container, mapped by `host-gateway`. */
const DOCKER_HOST_ALIAS = 'host.docker.internal';

/**
 * Limits every container gets when neither its spec nor the gateway's
 * defaults.resources sets them, so one runaway app (a leak, a fork bomb) cannot
 * take the host's memory or PID table. No CPU cap: CPU is shared fairly by the
 * kernel and taken back at once, and a cap would slow every cold start.
 */
export const BUILT_IN_RESOURCES: Readonly<ResourcesSpec> = Object.freeze({ memoryBytes: 512 * 2 ** 20, pids: 512 });

/** The limits a container gets: the spec's own, field by field, else the gateway's defaults, else the built-in ones. */
export function effectiveResources(spec: ResourcesSpec, defaults: ResourcesSpec = {}): ResourcesSpec {
  const out: ResourcesSpec = {};
  for (const key of ['memoryBytes', 'cpus', 'pids'] as const) {
    const value = spec[key] ?? defaults[key] ?? BUILT_IN_RESOURCES[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/**
 * The env as the container gets it: plain values and secret literals as they are,
 * references from their resolved values. A reference left unresolved is a bug, not
 * a variable to leave out: the app would start without its password.
 */
export function envText(env: Readonly<Record<string, EnvValue>>, resolved: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (typeof value === 'string') out[key] = value;
    else if ('secret' in value) out[key] = value.secret;
    else if (Object.hasOwn(resolved, key)) out[key] = resolved[key]!;
    else throw new Error(`env.${key} is a reference that was not resolved before create`);
  }
  return out;
}

/** The engine's key for a TCP container port: `8080/tcp`. */
export function portKey(port: number): string {
  return `${port}/tcp`;
}

/**
 * AppSpec → Docker create options. Pure, so the whole mapping is unit-tested without
 * an engine. Joining `spec.network` is not here: Engine API 1.41 accepts only one
 * network at create time, so ensure() connects it after create, keeping the default
 * bridge as well.
 */
export function containerCreateOptions(app: AppSpec, index: number, options: ContainerConfigOptions = {}): Docker.ContainerCreateOptions {
  const key = portKey(app.port);
  // The spec's own labels first: berth's labels (and the test labels) must win over them.
  const labels = {
    ...app.labels,
    ...ownerLabels(app.name, options.extraLabels ?? {}, index),
    [LABEL_SPEC_HASH]: containerSpecHash(app),
    ...(app.security.hostNetwork ? { [LABEL_HOST_PORT]: String(app.port) } : {}),
  };
  // Input's variables win over a same-named one in the spec's env.
  const env: Record<string, string> = { ...envText(app.env, options.secretValues ?? {}), ...inputEnv(app.name, app.input, options.inputUrl) };
  const create: Docker.ContainerCreateOptions = {
    name: containerName(app.name, index),
    Image: app.image,
    // Sorted, so equal specs produce identical containers.
    Env: Object.keys(env).sort().map((k) => `${k}=${env[k]}`),
    Labels: labels,
    ExposedPorts: { [key]: {} },
    // berth demultiplexes logs itself; a TTY would merge stdout and stderr.
    Tty: false,
    HostConfig: hostConfig(app, key, options),
  };
  if (app.command && app.command.length > 0) create.Cmd = app.command;
  return create;
}

function hostConfig(app: AppSpec, key: string, options: ContainerConfigOptions): Docker.HostConfig {
  const host: Docker.HostConfig = {
    // An init process (tini) reaps children and forwards SIGTERM, so `docker stop`
    // returns as soon as the app exits instead of waiting out the kill timeout.
    Init: true,
    // Loopback by default (addresses.ts), ephemeral host port: the app is reachable
    // only through berth, and the engine picks a free port berth reads back from inspect.
    PortBindings: { [key]: [{ HostIp: options.publishHost ?? '127.0.0.1', HostPort: '' }] },
    // berth decides when an app runs (scale, idle stop); Docker must not restart it behind its back.
    RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
    Mounts: mounts(app),
    // setuid binaries in the image cannot gain privileges beyond what the container starts with.
    SecurityOpt: ['no-new-privileges'],
  };
  const { privileged, capAdd, hostNetwork, hostPid } = app.security;
  if (options.logConfig) host.LogConfig = options.logConfig;
  if (privileged) host.Privileged = true;
  if (capAdd.length > 0) host.CapAdd = capAdd;
  if (hostPid) host.PidMode = 'host';
  if (hostNetwork) {
    // On the host network nothing is published: the app listens on the host's port itself.
    host.NetworkMode = 'host';
    delete host.PortBindings;
  }
  // On Linux host.docker.internal resolves only when mapped; the default input URL uses it.
  if (app.input?.as === 'url' && options.inputUrl && !hostNetwork && urlHost(options.inputUrl) === DOCKER_HOST_ALIAS) host.ExtraHosts = [`${DOCKER_HOST_ALIAS}:host-gateway`];
  const { memoryBytes, cpus, pids } = effectiveResources(app.resources, options.defaultResources);
  if (memoryBytes !== undefined) host.Memory = memoryBytes;
  // The engine refuses a limit above its host's CPUs ("range of CPUs is from 0.01 to N"), so a spec
  // written for a bigger host would fail at every start; all the host's CPUs is what it asked for here.
  if (cpus !== undefined) host.NanoCpus = Math.round(Math.min(cpus, options.hostCpus || Infinity) * 1e9);
  if (pids !== undefined) host.PidsLimit = pids;
  return host;
}

function urlHost(url: string): string | undefined {
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
}

function mounts(app: AppSpec): Docker.MountSettings[] {
  const list: Docker.MountSettings[] = [];
  if (app.volume) list.push({ Type: 'volume', Source: volumeName(app.name), Target: app.volume, ReadOnly: false });
  // Bind mounts were checked against the policy's bindMountRoots at apply, and ensure() hands
  // in their real paths (bind-mounts.ts), checked again, so the container is made from those.
  for (const m of app.mounts) list.push({ Type: 'bind', Source: m.source, Target: m.target, ReadOnly: m.readOnly });
  return list;
}

/** Create options for the app's named volume. */
export function volumeCreateOptions(appName: string, options: ContainerConfigOptions = {}): Docker.VolumeCreateOptions {
  return { Name: volumeName(appName), Driver: 'local', Labels: ownerLabels(appName, options.extraLabels ?? {}) };
}
