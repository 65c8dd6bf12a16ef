/**
 * What a container may have over the host, from its spec or from the gateway's policy, and
 * the phrases its powers are named by. Engine-neutral: the activator weighs an instance's
 * powers against its spec with this; each runtime reads the powers from its own objects
 * (runtime/docker/launch-powers.ts for a container's HostConfig).
 */
import type { AppSpec, DockerPolicy } from '../spec/types.js';

/** What a container may have: from its spec (ensure) or from the gateway's policy (start). */
export interface LaunchAllowance {
  privileged: boolean;
  /** Linux capabilities it may add, as the spec and the policy name them (NET_ADMIN). */
  capabilities: readonly string[];
  hostNetwork: boolean;
  hostPid: boolean;
}

/** Nothing over the host: what powersBeyond is read against to name every power a container has. */
export const NO_POWERS: LaunchAllowance = { privileged: false, capabilities: [], hostNetwork: false, hostPid: false };

/** What the gateway's policy lets any container have. */
export function policyAllowance(policy: DockerPolicy): LaunchAllowance {
  return { privileged: policy.allowPrivileged, capabilities: policy.capabilities, hostNetwork: policy.allowHostNetwork, hostPid: policy.allowHostPid };
}

/** What berth gives the container of `app` (container-config.ts): no more may an adopted one have. */
export function specAllowance(app: AppSpec): LaunchAllowance {
  const s = app.security;
  return { privileged: s.privileged, capabilities: s.capAdd, hostNetwork: s.hostNetwork, hostPid: s.hostPid };
}

/** CAP_NET_ADMIN, net_admin → NET_ADMIN: the engine reports capabilities with the prefix since 20.10. */
export function capabilityName(cap: string): string {
  const upper = cap.trim().toUpperCase();
  return upper.startsWith('CAP_') ? upper.slice(4) : upper;
}

export const PRIVILEGED = 'privileged';
export const HOST_NETWORK = 'the host network';
export const HOST_PID = 'the host PID namespace';
export const capabilityPower = (cap: string): string => `capability ${capabilityName(cap)}`;

/**
 * Of `powers` (powersBeyond's phrases), those `allowed` does not grant. Weighed against its spec, a
 * running container's powers (Instance.hostPowers) tell one made or changed outside berth: berth gives
 * what the spec asks, even where the policy has narrowed since (such a container runs on until stopped,
 * as a reload leaves it), and nothing more, even what the policy would allow. Pure.
 */
export function notGrantedBy(powers: readonly string[], allowed: LaunchAllowance): string[] {
  const caps = new Set(allowed.capabilities.map(capabilityPower));
  return powers.filter(
    (p) => !(p === PRIVILEGED && allowed.privileged) && !(p === HOST_NETWORK && allowed.hostNetwork) && !(p === HOST_PID && allowed.hostPid) && !caps.has(p),
  );
}
