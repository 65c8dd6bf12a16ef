import { createHash } from 'node:crypto';
import type Docker from 'dockerode';
import { RuntimeError } from '../../errors.js';
import type { SpecIssue } from '../../spec/path.js';
import type { AppSpec } from '../../spec/types.js';
import { containerSpecHash } from '../../spec/hash.js';
import { LABEL_SPEC_HASH } from '../runtime.js';
import { effectiveResources, envText } from '../docker/container-config.js';
import type { ContainerConfigOptions } from '../docker/container-config.js';
import { inputEnv } from '../docker/input.js';
import { containerName, ownerLabels, volumeName } from '../docker/names.js';
import type { SwarmNode } from './wire.js';

/** The label naming the node an app with a volume is pinned to (its data lives there). */
export const LABEL_NODE = 'berth.node';

/**
 * The label saying the image has a HEALTHCHECK (`image`), read from the manager's
 * copy when the service was written: the Swarm holds such a task in `starting`
 * until its check passes and replaces it when it fails, but says nothing of health
 * in the task's status, so the instance's health is told from this and the task's
 * state (service-instance.ts taskHealth).
 */
export const LABEL_HEALTHCHECK = 'berth.healthcheck';

/**
 * The label holding templateHash of the service berth wrote. The spec-hash label
 * alone cannot tell a service changed behind berth's back: `docker service update
 * --image` (or --env-add, --constraint-add, --limit-memory, --publish-rm, …) rewrites
 * the service and keeps every label.
 */
export const LABEL_TEMPLATE_HASH = 'berth.service-hash';

/**
 * The label an older berth wrote instead, a hash of the image, env and args alone
 * (legacyTemplateHash). A service that carries it is judged by those until berth
 * next writes it: read with the new hash, every running service of an upgraded
 * gateway would have read as changed and been restarted at once.
 */
export const LABEL_LEGACY_TEMPLATE_HASH = 'berth.template-hash';

export interface ServiceSpecOptions extends Pick<ContainerConfigOptions, 'extraLabels' | 'defaultResources' | 'inputUrl' | 'secretValues'> {
  /** CPUs of the smallest node that may run the task (taskCpuCeiling); absent: unknown, the CPU limit is passed as asked. Not in the spec hash. */
  hostCpus?: number | undefined;
  /** Node id the app's tasks are pinned to; required when the app has a volume. */
  pinnedNode?: string;
  /** Replicas the service is created or updated with (0: stopped). */
  replicas: number;
  /** Bounds on the tasks' logs (docker/log-config.ts); absent: each node's default driver as it is. */
  logConfig?: Docker.HostConfig['LogConfig'];
  /** The image declares a HEALTHCHECK (docker/image.ts imageHasHealthcheck): labelled LABEL_HEALTHCHECK. */
  imageHealthcheck?: boolean;
}

/** Swarm's update and rollback: one task at a time, the new one started before the old one stops. */
const UPDATE_CONFIG = { Parallelism: 1, Order: 'start-first', FailureAction: 'rollback', Monitor: 5e9, MaxFailureRatio: 0 } as const;
const ROLLBACK_CONFIG = { Parallelism: 1, Order: 'start-first', FailureAction: 'pause', Monitor: 5e9 } as const;

/**
 * What a Swarm service cannot do for berth, or must not, at the spec's field: refused
 * at apply (SwarmRuntime.specIssues), and again by the runtime at every create
 * (swarmRefusal), so a spec that slipped past (an older store, the config file) still
 * never runs privileged. The gateway's policy is checked besides. Pure.
 */
export function swarmIssue(app: AppSpec): SpecIssue | undefined {
  const { privileged, hostNetwork, hostPid } = app.security;
  if (privileged) return { path: ['security', 'privileged'], message: `app ${app.name}: Swarm services cannot run privileged; berth refuses it` };
  if (hostNetwork) return { path: ['security', 'hostNetwork'], message: `app ${app.name}: security.hostNetwork is not supported on Swarm (tasks publish their port on their node)` };
  if (hostPid) return { path: ['security', 'hostPid'], message: `app ${app.name}: security.hostPid is not supported on Swarm` };
  if (app.input?.as === 'file') return { path: ['input', 'as'], message: `app ${app.name}: input.as file is not supported on Swarm (the file cannot be put into a task before it starts); use env or url` };
  return undefined;
}

/** swarmIssue's words alone, for the runtime's own refusal. Pure. */
export function swarmRefusal(app: AppSpec): string | undefined {
  return swarmIssue(app)?.message;
}

/**
 * AppSpec → the Swarm service of instance `index`. Pure, so the mapping is tested
 * without a swarm. The task's port is published in host mode at a port the node
 * picks (so two tasks on one node never collide, and a start-first update can run
 * the new task beside the old one); berth dials it at the node's address. The
 * endpoint is DNS round robin: the VIP and the ingress mesh need IPVS, which not
 * every kernel has, and berth balances by itself.
 */
export function serviceSpec(app: AppSpec, index: number, options: ServiceSpecOptions): Docker.ServiceSpec {
  const refusal = swarmRefusal(app);
  if (refusal) throw new RuntimeError(refusal);
  if (app.volume && !options.pinnedNode) throw new Error(`app ${app.name} has a volume but no node to pin it to`);
  const labels: Record<string, string> = { ...app.labels, ...ownerLabels(app.name, options.extraLabels ?? {}, index), [LABEL_SPEC_HASH]: containerSpecHash(app) };
  if (app.volume && options.pinnedNode) labels[LABEL_NODE] = options.pinnedNode;
  if (options.imageHealthcheck) labels[LABEL_HEALTHCHECK] = 'image';
  const env: Record<string, string> = { ...envText(app.env, options.secretValues ?? {}), ...inputEnv(app.name, app.input, options.inputUrl) };
  const { memoryBytes, cpus, pids } = effectiveResources(app.resources, options.defaultResources);
  const limits: Record<string, number> = {};
  if (memoryBytes !== undefined) limits['MemoryBytes'] = memoryBytes;
  // As on one engine (container-config.ts): a node refuses a limit above its CPUs, rejecting the task at every wake.
  if (cpus !== undefined) limits['NanoCPUs'] = Math.round(Math.min(cpus, options.hostCpus || Infinity) * 1e9);
  if (pids !== undefined) limits['Pids'] = pids;
  const containerSpec: Record<string, unknown> = {
    Image: app.image,
    Labels: labels,
    Env: Object.keys(env).sort().map((k) => `${k}=${env[k]}`),
    Init: true,
    Mounts: mounts(app, options.extraLabels ?? {}),
    StopGracePeriod: 10e9,
    Privileges: { NoNewPrivileges: true },
  };
  // Cmd for a container is Args for a service: the image's ENTRYPOINT is kept.
  if (app.command && app.command.length > 0) containerSpec['Args'] = app.command;
  if (app.security.capAdd.length > 0) containerSpec['CapabilityAdd'] = app.security.capAdd;
  const template: Record<string, unknown> = {
    ContainerSpec: containerSpec,
    Resources: { Limits: limits },
    // The Swarm restarts a task that dies and moves it off a drained node; berth only sets how many run.
    RestartPolicy: { Condition: 'any', Delay: 1e9 },
    Placement: { Constraints: app.volume ? [`node.id==${options.pinnedNode}`] : [] },
  };
  if (app.network) template['Networks'] = [{ Target: app.network, Aliases: [app.name] }];
  // As for a container: an app that writes without end must not fill its node's disk.
  if (options.logConfig?.Type) template['LogDriver'] = { Name: options.logConfig.Type, Options: { ...options.logConfig.Config } };
  const service = {
    Name: containerName(app.name, index),
    Labels: labels,
    TaskTemplate: template,
    Mode: { Replicated: { Replicas: options.replicas } },
    UpdateConfig: UPDATE_CONFIG,
    RollbackConfig: ROLLBACK_CONFIG,
    EndpointSpec: { Mode: 'dnsrr', Ports: [{ Protocol: 'tcp', TargetPort: app.port, PublishMode: 'host' }] },
  } as Docker.ServiceSpec;
  return { ...service, Labels: { ...labels, [LABEL_TEMPLATE_HASH]: templateHash(service) } } as Docker.ServiceSpec;
}

function mounts(app: AppSpec, extraLabels: Record<string, string>): Record<string, unknown>[] {
  const list: Record<string, unknown>[] = [];
  // Created by the node that runs the task, labelled as berth's there.
  if (app.volume) list.push({ Type: 'volume', Source: volumeName(app.name), Target: app.volume, ReadOnly: false, VolumeOptions: { Labels: ownerLabels(app.name, extraLabels) } });
  // The source must exist on whichever node runs the task; the policy's bindMountRoots were checked on the gateway's host.
  for (const m of app.mounts) list.push({ Type: 'bind', Source: m.source, Target: m.target, ReadOnly: m.readOnly });
  return list;
}

/**
 * A hash of everything of a service berth wrote that `docker service update` can
 * change behind its back and that matters to the app: the image, env, args and
 * command, the user, the container's labels and mounts, the added and dropped
 * capabilities, init, the resource limits and reservations, the placement
 * constraints, the networks, the restart condition, the log driver, the published
 * ports, the service's labels but its two hashes, and the confinements (seccomp,
 * AppArmor, SELinux) switched off through the API. Only as the engine keeps
 * them (serviceFingerprint), so a service berth made hashes the same when read back.
 */
export function templateHash(spec: Pick<Docker.ServiceSpec, 'TaskTemplate' | 'EndpointSpec' | 'Labels'> | undefined): string {
  return createHash('sha256').update(JSON.stringify(serviceFingerprint(spec))).digest('hex').slice(0, 16);
}

/**
 * The fields templateHash covers, in the form the engine reads them back in: a
 * network's Target comes back as the network's id (only its aliases and the count
 * of networks are compared), a mount's `ReadOnly: false` is dropped, empty lists
 * and zero limits are left out, and `Privileges.NoNewPrivileges` is not kept at all
 * (so it is not compared). Pure.
 */
export function serviceFingerprint(spec: Pick<Docker.ServiceSpec, 'TaskTemplate' | 'EndpointSpec' | 'Labels'> | undefined): unknown[] {
  const t = (spec?.TaskTemplate ?? {}) as Loose;
  const c = (t['ContainerSpec'] ?? {}) as Loose;
  const limits = (t['Resources']?.Limits ?? {}) as Loose;
  const reserved = (t['Resources']?.Reservations ?? {}) as Loose;
  const serviceLabels = Object.entries(spec?.Labels ?? {}).filter(([k]) => k !== LABEL_TEMPLATE_HASH && k !== LABEL_LEGACY_TEMPLATE_HASH && k !== LABEL_SPEC_HASH);
  const unconfined = unconfinedPrivileges(c['Privileges'] as Loose | undefined);
  return [
    c['Image'] ?? '',
    c['Env'] ?? [],
    c['Args'] ?? [],
    c['Command'] ?? [],
    c['User'] ?? '',
    sortedEntries(c['Labels']),
    ((c['Mounts'] ?? []) as Loose[]).map((m) => [m['Type'] ?? '', m['Source'] ?? '', m['Target'] ?? '', Boolean(m['ReadOnly'])]),
    [...((c['CapabilityAdd'] ?? []) as string[])].sort(),
    [...((c['CapabilityDrop'] ?? []) as string[])].sort(),
    Boolean(c['Init']),
    [limits['MemoryBytes'] ?? 0, limits['NanoCPUs'] ?? 0, limits['Pids'] ?? 0, reserved['MemoryBytes'] ?? 0, reserved['NanoCPUs'] ?? 0],
    [...((t['Placement']?.Constraints ?? []) as string[])].sort(),
    t['Placement']?.MaxReplicas ?? 0,
    ((t['Networks'] ?? []) as Loose[]).map((n) => [...((n['Aliases'] ?? []) as string[])].sort()),
    t['RestartPolicy']?.Condition ?? '',
    t['LogDriver']?.Name ?? '',
    ((spec?.EndpointSpec?.Ports ?? []) as Loose[]).map((p) => [p['Protocol'] ?? 'tcp', p['TargetPort'] ?? 0, p['PublishedPort'] ?? 0, p['PublishMode'] ?? 'ingress']),
    spec?.EndpointSpec?.Mode ?? 'vip',
    serviceLabels.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    // Only when there is one: a service as berth wrote it (none) keeps the hash it was labelled with.
    ...(unconfined.length > 0 ? [unconfined] : []),
  ];
}

/**
 * The confinements a task's Privileges switch off, which berth never does (it writes
 * NoNewPrivileges alone): a seccomp profile other than the default (unconfined, or a
 * custom one that may allow anything), AppArmor disabled, SELinux labels disabled.
 * The engine reads back `default` or nothing where berth wrote nothing. Pure.
 */
function unconfinedPrivileges(privileges: Loose | undefined): string[] {
  const out: string[] = [];
  const seccomp = privileges?.['Seccomp']?.Mode as string | undefined;
  if (seccomp && seccomp !== 'default') out.push(`seccomp ${seccomp}`);
  const apparmor = privileges?.['AppArmor']?.Mode as string | undefined;
  if (apparmor && apparmor !== 'default') out.push(`apparmor ${apparmor}`);
  if (privileges?.['SELinuxContext']?.Disable === true) out.push('selinux disabled');
  return out;
}

/** The engine's service JSON, read field by field: dockerode types it loosely, and the engine fills in more than berth wrote. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = Record<string, any>;

function sortedEntries(labels: Record<string, string> | undefined): [string, string][] {
  return Object.entries(labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Whether the service is no longer the one berth wrote (its LABEL_TEMPLATE_HASH, or
 * an older berth's LABEL_LEGACY_TEMPLATE_HASH): changed behind berth's back. A
 * service of a berth older still, with neither, is taken as it is. Pure.
 */
export function drifted(spec: Docker.ServiceSpec | undefined): boolean {
  const written = spec?.Labels?.[LABEL_TEMPLATE_HASH];
  if (written !== undefined) return written !== templateHash(spec);
  const legacy = spec?.Labels?.[LABEL_LEGACY_TEMPLATE_HASH];
  return legacy !== undefined && legacy !== legacyTemplateHash(spec?.TaskTemplate);
}

/** What an older berth hashed into LABEL_LEGACY_TEMPLATE_HASH: the image, the env and the args. */
export function legacyTemplateHash(template: Docker.TaskSpec | undefined): string {
  const c = ((template as { ContainerSpec?: unknown } | undefined)?.ContainerSpec ?? {}) as { Image?: string; Env?: string[]; Args?: string[] };
  return createHash('sha256').update(JSON.stringify([c.Image ?? '', c.Env ?? [], c.Args ?? []])).digest('hex').slice(0, 16);
}

/**
 * The most CPUs a task's limit may ask for: each node's dockerd refuses a container
 * whose limit is above its own CPUs ("Range of CPUs is from 0.01 to 2.00"), so the
 * Swarm rejects the task and every wake of the app fails. One limit serves every
 * node the task may land on: the pinned node's CPUs for an app with a volume, else
 * the fewest of any node (a drained or down one may take tasks again). Undefined
 * when no node says. Pure.
 */
export function taskCpuCeiling(nodes: readonly SwarmNode[], pinnedNode?: string): number | undefined {
  const candidates = pinnedNode === undefined ? nodes : nodes.filter((n) => n.ID === pinnedNode);
  const cpus = candidates.map((n) => (n.Description?.Resources?.NanoCPUs ?? 0) / 1e9).filter((c) => c > 0);
  return cpus.length > 0 ? Math.min(...cpus) : undefined;
}

/**
 * The service with LABEL_HEALTHCHECK as its image says now (`imageHealthcheck`), for a
 * wake: the Swarm makes each task from the image the tag names when the task is made,
 * so an image rebuilt under the same tag with a HEALTHCHECK added (or dropped) runs
 * with it at the next wake, while the label, read only when berth wrote the service,
 * said the old image's; the instance's health read `none` while the Swarm held the
 * task `starting` (or the opposite). The label is the service's own, not its task
 * template's: rewriting it restarts no task. The template hash, which covers the
 * service's labels, is written anew when it was as berth wrote it. Undefined when the
 * label already says so, or the image is not known (undefined). Pure.
 */
export function relabelHealthcheck<S extends Docker.ServiceSpec>(spec: S, imageHealthcheck: boolean | undefined): S | undefined {
  const labelled = spec.Labels?.[LABEL_HEALTHCHECK] === 'image';
  if (imageHealthcheck === undefined || imageHealthcheck === labelled) return undefined;
  const { [LABEL_HEALTHCHECK]: _old, ...rest } = spec.Labels ?? {};
  const labels: Record<string, string> = imageHealthcheck ? { ...rest, [LABEL_HEALTHCHECK]: 'image' } : rest;
  const relabelled = { ...spec, Labels: labels };
  // An older berth's legacy hash covers no label; a service edited outside berth keeps its tell-tale mismatch.
  if (labels[LABEL_TEMPLATE_HASH] !== undefined && !drifted(spec)) labels[LABEL_TEMPLATE_HASH] = templateHash(relabelled);
  return relabelled;
}

/** The image a service's tasks run, as its spec names it. */
export function imageOf(spec: Docker.ServiceSpec | undefined): string | undefined {
  return ((spec?.TaskTemplate as { ContainerSpec?: { Image?: string } } | undefined)?.ContainerSpec?.Image) || undefined;
}

/** The replicas a service asks for; 0 for a global or unreadable one. */
export function replicasOf(spec: Docker.ServiceSpec | undefined): number {
  return spec?.Mode?.Replicated?.Replicas ?? 0;
}
