import type Docker from 'dockerode';
import type { AppSpec } from '../../spec/types.js';
import { containerSpecHash } from '../../spec/hash.js';
import { LABEL_SPEC_HASH } from '../runtime.js';
import { containerName, ownerLabels, volumeName } from './names.js';

export interface ContainerConfigOptions {
  /** Labels added to every container berth creates (tests add `berth.test=true`). */
  extraLabels?: Record<string, string>;
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
  };
  const create: Docker.ContainerCreateOptions = {
    name: containerName(app.name, index),
    Image: app.image,
    // Sorted, so equal specs produce identical containers.
    Env: Object.keys(app.env).sort().map((k) => `${k}=${app.env[k]}`),
    Labels: labels,
    ExposedPorts: { [key]: {} },
    // berth demultiplexes logs itself; a TTY would merge stdout and stderr.
    Tty: false,
    HostConfig: hostConfig(app, key),
  };
  if (app.command && app.command.length > 0) create.Cmd = app.command;
  return create;
}

function hostConfig(app: AppSpec, key: string): Docker.HostConfig {
  const host: Docker.HostConfig = {
    // An init process (tini) reaps children and forwards SIGTERM, so `docker stop`
    // returns as soon as the app exits instead of waiting out the kill timeout.
    Init: true,
    // Loopback only, ephemeral host port: the app is reachable only through berth,
    // and the engine picks a free port that berth reads back from inspect.
    PortBindings: { [key]: [{ HostIp: '127.0.0.1', HostPort: '' }] },
    // berth decides when an app runs (scale, idle stop); Docker must not restart it behind its back.
    RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
    Mounts: mounts(app),
    // setuid binaries in the image cannot gain privileges beyond what the container starts with.
    SecurityOpt: ['no-new-privileges'],
  };
  const { privileged, capAdd, hostNetwork, hostPid } = app.security;
  if (privileged) host.Privileged = true;
  if (capAdd.length > 0) host.CapAdd = capAdd;
  if (hostPid) host.PidMode = 'host';
  if (hostNetwork) {
    // On the host network nothing is published: the app listens on the host's port itself.
    host.NetworkMode = 'host';
    delete host.PortBindings;
  }
  const { memoryBytes, cpus, pids } = app.resources;
  if (memoryBytes !== undefined) host.Memory = memoryBytes;
  if (cpus !== undefined) host.NanoCpus = Math.round(cpus * 1e9);
  if (pids !== undefined) host.PidsLimit = pids;
  return host;
}

function mounts(app: AppSpec): Docker.MountSettings[] {
  const list: Docker.MountSettings[] = [];
  if (app.volume) list.push({ Type: 'volume', Source: volumeName(app.name), Target: app.volume, ReadOnly: false });
  // Bind mounts were already checked against the policy's bindMountRoots by the spec layer.
  for (const m of app.mounts) list.push({ Type: 'bind', Source: m.source, Target: m.target, ReadOnly: m.readOnly });
  return list;
}

/** Create options for the app's named volume. */
export function volumeCreateOptions(appName: string, options: ContainerConfigOptions = {}): Docker.VolumeCreateOptions {
  return { Name: volumeName(appName), Driver: 'local', Labels: ownerLabels(appName, options.extraLabels ?? {}) };
}
