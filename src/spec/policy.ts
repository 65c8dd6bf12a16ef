/**
 * What a gateway allows specs to ask of Docker (deny by default): which images,
 * which networks, which host paths may be bind-mounted, which labels (label-policy.ts). A spec is data anyone
 * with an API token can send, and Docker access is root access to the host.
 */
import { imageMatches } from './image-pattern.js';
import { imageReferenceProblem, readAsImageId } from './image-reference.js';
import { labelIssues } from './label-policy.js';
import { secretRefIssues } from './secret-policy.js';
import { checkMountSource, type PathResolver, realPath } from './mount-paths.js';
import type { SpecIssue } from './path.js';
import { sizeText } from './size.js';
import type { AppSpec, DockerPolicy, ResourcesSpec } from './types.js';

/** Kept for callers of the string check; the policy itself now resolves paths (mount-paths.ts). */
export { isUnderRoot as isUnder } from './mount-paths.js';

function list(items: readonly string[]): string {
  return items.length > 0 ? items.join(', ') : 'none allowed';
}

/**
 * Problems of one app against the policy, at paths inside the app. Bind-mount
 * sources are looked up through `resolve` (realpath by default; see mount-paths.ts).
 */
export function policyIssues(spec: AppSpec, policy: DockerPolicy, resolve: PathResolver = realPath): SpecIssue[] {
  const issues: SpecIssue[] = [];
  // An empty list is not checked here: the gateway then runs only images already
  // present on the engine, which only the runtime can tell.
  if (policy.images.length > 0 && readAsImageId(spec.image)) {
    // Only a spec stored before such references were refused gets here (image-reference.ts).
    issues.push({ path: ['image'], message: `image "${spec.image}" of app "${spec.name}": ${imageReferenceProblem(spec.image)}` });
  } else if (policy.images.length > 0 && !policy.images.some((pattern) => imageMatches(pattern, spec.image))) {
    issues.push({
      path: ['image'],
      message: `image "${spec.image}" of app "${spec.name}" is not allowed by policy.images (${list(policy.images)})`,
    });
  }
  if (spec.network !== undefined && !policy.networks.includes(spec.network)) {
    issues.push({
      path: ['network'],
      message: `network "${spec.network}" of app "${spec.name}" is not in policy.networks (${list(policy.networks)})`,
    });
  }
  const security = spec.security;
  if (security.privileged && !policy.allowPrivileged) {
    issues.push({ path: ['security', 'privileged'], message: `app "${spec.name}" asks to run privileged, which policy.allowPrivileged does not allow` });
  }
  const allowedCaps = new Set(policy.capabilities.map(capabilityName));
  security.capAdd.forEach((cap, i) => {
    if (!allowedCaps.has(capabilityName(cap))) {
      issues.push({ path: ['security', 'capAdd', i], message: `capability ${cap} of app "${spec.name}" is not in policy.capabilities (${list(policy.capabilities)})` });
    }
  });
  if (security.hostNetwork && !policy.allowHostNetwork) {
    issues.push({ path: ['security', 'hostNetwork'], message: `app "${spec.name}" asks for the host network, which policy.allowHostNetwork does not allow` });
  }
  if (security.hostPid && !policy.allowHostPid) {
    issues.push({ path: ['security', 'hostPid'], message: `app "${spec.name}" asks for the host PID namespace, which policy.allowHostPid does not allow` });
  }
  issues.push(...resourceIssues(spec, policy.maxResources ?? {}));
  spec.mounts.forEach((mount, i) => {
    const checked = checkMountSource(mount.source, policy.bindMountRoots, resolve, `"${mount.source}" of app "${spec.name}"`);
    if (!checked.ok) issues.push({ path: ['mounts', i, 'source'], message: checked.message });
  });
  issues.push(...secretRefIssues(spec.name, spec.env, policy));
  issues.push(...labelIssues(spec.name, spec.labels, policy));
  return issues;
}

/**
 * A capability as the engine reads it: `CAP_NET_ADMIN`, `NET_ADMIN` and `net_admin` are one
 * (Docker adds the prefix and upper-cases), so a policy written one way does not refuse another.
 */
function capabilityName(cap: string): string {
  return cap.toUpperCase().replace(/^CAP_/, '');
}

/**
 * A spec's own resources above the policy's bounds. Without a bound a spec could lift
 * the memory and PID limits every container otherwise gets (defaults.resources, or the
 * built-in 512m and 512) as high as it liked: `memory: 1t` is no limit at all.
 */
function resourceIssues(spec: AppSpec, max: ResourcesSpec): SpecIssue[] {
  const fields = [
    ['memory', spec.resources.memoryBytes, max.memoryBytes, sizeText],
    ['cpus', spec.resources.cpus, max.cpus, String],
    ['pids', spec.resources.pids, max.pids, String],
  ] as const;
  return fields.flatMap(([field, asked, bound, text]) =>
    asked !== undefined && bound !== undefined && asked > bound
      ? [{ path: ['resources', field], message: `resources.${field} ${text(asked)} of app "${spec.name}" is above policy.maxResources.${field} (${text(bound)})` }]
      : [],
  );
}
