/**
 * Ports of apps on the host network. Such an app is dialled at 127.0.0.1:<port>
 * (runtime/docker/instance.ts), the host's own port, so its port is a claim on the
 * host: on one of the gateway's listener ports berth would dial itself (each request
 * looping back through the proxy until connections run out, or a public route reaching
 * the admin API), and two such apps on one port would be dialled for each other.
 */
import type { SpecIssue } from './path.js';
import { PORT_FROM_IMAGE, type AppSpec } from './types.js';

/** The gateway's listener ports, each with the config field that sets it (`listen`, `admin`, `tls.listen`). */
export type GatewayPorts = ReadonlyMap<number, string>;

/** The ports of the gateway's listeners; port 0 (a port the system picks) is no claim. */
export function gatewayPorts(listeners: Record<string, { port: number } | undefined>): Map<number, string> {
  const ports = new Map<number, string>();
  for (const [field, listener] of Object.entries(listeners)) {
    if (listener && listener.port > 0 && !ports.has(listener.port)) ports.set(listener.port, field);
  }
  return ports;
}

/** The port an app on the host network takes on the host, or undefined (off the host network, or its image's port). */
export function hostPortOf(spec: AppSpec | undefined): number | undefined {
  return spec?.security.hostNetwork && spec.port !== PORT_FROM_IMAGE ? spec.port : undefined;
}

/** Host-network apps on a gateway port or on another host-network app's port, located at `apps[i].port`. */
export function hostPortIssues(specs: readonly AppSpec[], gateway: GatewayPorts = new Map()): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const owners = new Map<number, string>();
  specs.forEach((spec, i) => {
    const port = hostPortOf(spec);
    if (port === undefined) return;
    const path = ['apps', i, 'port'];
    const field = gateway.get(port);
    const owner = owners.get(port);
    if (field !== undefined) {
      issues.push({ path, message: `app "${spec.name}" is on the host network, where port ${port} is the gateway's own (${field}): berth would dial itself` });
    } else if (owner !== undefined && owner !== spec.name) {
      issues.push({ path, message: `app "${spec.name}" is on the host network, where port ${port} is already app "${owner}"'s: berth would dial one for the other` });
    } else owners.set(port, spec.name);
  });
  return issues;
}
