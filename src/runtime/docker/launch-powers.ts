/**
 * The powers over the host a container's own HostConfig gives it, checked against what
 * it may have. berth adopts containers by their labels (berth.managed, the store, the
 * spec hash), and labels are only strings: anyone who can reach the engine can make a
 * container named berth-APP-0 with berth's labels and `--privileged`, `-v /:/host` or
 * `--pid host`. The spec and the policy were checked at apply; the container itself is
 * checked here, where it is adopted (ensure: against what its spec asks) and where it is
 * started (against the gateway's policy), so no container berth starts runs with powers
 * the policy denies, whoever made it.
 */
import type Docker from 'dockerode';
import { capabilityName, capabilityPower, HOST_NETWORK, HOST_PID, PRIVILEGED, type LaunchAllowance } from '../launch-allowance.js';

const sharesAnother = (mode: string | undefined): boolean => typeof mode === 'string' && mode.startsWith('container:');
const nonEmpty = <T>(list: readonly T[] | null | undefined): list is readonly T[] => Array.isArray(list) && list.length > 0;

/** Security options that switch a confinement off (seccomp, AppArmor, SELinux labels, the masked /proc paths). */
function unconfines(opt: string): boolean {
  const o = opt.toLowerCase().replace(/\s+/g, '');
  return o.includes('unconfined') || o === 'label=disable' || o === 'label:disable';
}

/**
 * What `host` gives beyond `allowed`, one phrase each ("privileged", "capability SYS_ADMIN",
 * "bind mounts given as Binds (/:/host)"): empty when nothing. Pure. What berth never sets
 * (another container's namespaces, host IPC/UTS/user namespaces, devices, Binds, VolumesFrom,
 * unconfined security options) is always beyond.
 */
export function powersBeyond(host: Docker.HostConfig | undefined, allowed: LaunchAllowance): string[] {
  if (!host) return [];
  const out: string[] = [];
  if (host.Privileged && !allowed.privileged) out.push(PRIVILEGED);
  const caps = new Set(allowed.capabilities.map(capabilityName));
  for (const cap of host.CapAdd ?? []) if (!caps.has(capabilityName(cap))) out.push(capabilityPower(cap));
  if (host.NetworkMode === 'host' && !allowed.hostNetwork) out.push(HOST_NETWORK);
  if (sharesAnother(host.NetworkMode)) out.push(`the network namespace of another container (${host.NetworkMode})`);
  if (host.PidMode === 'host' && !allowed.hostPid) out.push(HOST_PID);
  if (sharesAnother(host.PidMode)) out.push(`the PID namespace of another container (${host.PidMode})`);
  if (host.IpcMode === 'host' || sharesAnother(host.IpcMode)) out.push(`IPC namespace ${host.IpcMode}`);
  if (host.UTSMode === 'host') out.push('the host UTS namespace');
  if (host.UsernsMode === 'host') out.push('the host user namespace');
  const devices = host.Devices as Array<{ PathOnHost?: string }> | null | undefined;
  if (nonEmpty(devices)) out.push(`host devices (${devices.map((d) => d.PathOnHost ?? '?').join(', ')})`);
  const extra = host as { DeviceRequests?: unknown[] | null; DeviceCgroupRules?: string[] | null };
  if (nonEmpty(extra.DeviceRequests)) out.push('device requests');
  if (nonEmpty(extra.DeviceCgroupRules)) out.push(`device cgroup rules (${extra.DeviceCgroupRules.join(', ')})`);
  if (nonEmpty(host.Binds)) out.push(`bind mounts given as Binds (${host.Binds.join(', ')})`);
  if (nonEmpty(host.VolumesFrom)) out.push(`the volumes of other containers (${host.VolumesFrom.join(', ')})`);
  for (const opt of host.SecurityOpt ?? []) if (unconfines(opt)) out.push(`security option ${opt}`);
  return out;
}

/** "container X has privileged, the host network, which ..." for an error, or undefined. */
export function powersProblem(name: string, beyond: readonly string[], against: string): string | undefined {
  if (beyond.length === 0) return undefined;
  return `container ${name} has ${beyond.join(', ')}, which ${against} does not allow: it was not made so by berth (changed or created outside it); remove it and berth makes it anew`;
}
