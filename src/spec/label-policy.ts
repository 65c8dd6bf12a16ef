/**
 * Which container labels a spec may set. A label is an instruction to whatever
 * watches the engine: Traefik routes by `traefik.*`, Compose adopts and removes by
 * `com.docker.compose.*`, Watchtower replaces images by its labels, Ofelia runs
 * commands (and new containers) by its own. A spec setting them would steer those
 * tools past berth's policy. berth's own `berth.*` labels are refused by the schema.
 */
import type { SpecIssue } from './path.js';
import type { DockerPolicy } from './types.js';

/**
 * Label namespaces of tools that act on containers, refused unless policy.labels
 * names them. Not a complete list of such tools: an operator who runs another one
 * sets policy.labels to what apps need.
 */
export const CONTROL_LABELS: readonly string[] = [
  'traefik.*',
  'com.docker.*',
  'io.kubernetes.*',
  'com.centurylinklabs.watchtower.*',
  'caddy',
  'caddy.*',
  'caddy_*',
  'sablier.*',
  'ofelia.*',
  'autoheal*',
];

/** `*` matches any run of characters; everything else is literal, in any case when `anyCase`. */
function matches(pattern: string, name: string, anyCase = false): boolean {
  return new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, anyCase ? 'iu' : 'u').test(name);
}

/** Whether a spec may set label `name`: a policy.labels pattern matches it or, without policy.labels, no control namespace does. */
export function labelAllowed(name: string, policy: Pick<DockerPolicy, 'labels'>): boolean {
  if (policy.labels !== undefined) return policy.labels.some((pattern) => matches(pattern, name));
  // A control namespace in any case: Traefik reads `Traefik.HTTP.Routers.x.Rule` as its own (its label
  // parser compares names case-insensitively), and `Traefik.*` got past the deny pattern. Unicode's
  // folding, as Go's (the Kelvin sign K is a k to strings.EqualFold and ToLower). The
  // allow-list above stays exact: it lets through only what the operator wrote.
  return !CONTROL_LABELS.some((pattern) => matches(pattern, name, true));
}

export function labelIssues(appName: string, labels: Readonly<Record<string, string>>, policy: Pick<DockerPolicy, 'labels'>): SpecIssue[] {
  const why =
    policy.labels !== undefined
      ? `policy.labels (${policy.labels.length > 0 ? policy.labels.join(', ') : 'none allowed'}) does not allow it`
      : 'it belongs to a tool that acts on containers, which policy.labels must name to allow';
  return Object.keys(labels)
    .filter((name) => !labelAllowed(name, policy))
    .map((name) => ({ path: ['labels', name], message: `label "${name}" of app "${appName}": ${why}` }));
}
