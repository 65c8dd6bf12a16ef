/**
 * Checks of a berth/v1 document that span several fields. Each runs even when
 * other, unrelated fields are wrong, so one round of fixes is enough.
 */
import type { z } from 'zod';
import { execStringProblem } from './exec-strings.js';
import { routeKey } from './route-key.js';

interface CrossFields {
  routes?: Array<{ host?: string | undefined; path?: string | undefined }> | undefined;
  volume?: string | undefined;
  mounts?: Array<{ target: string }> | undefined;
  port?: number | undefined;
  env?: Record<string, unknown> | undefined;
  command?: string[] | undefined;
  security?: { hostNetwork: boolean } | undefined;
  scale?: { min: number; max?: number | undefined; replicas?: number | undefined } | undefined;
}

type Payload = { issues: Array<{ path?: PropertyKey[] }> };

/**
 * A check runs only when the fields it reads are themselves valid. A document that
 * is not an object never gets this far; root issues (unknown keys) do not matter.
 */
function fieldsValid(...fields: string[]): (payload: Payload) => boolean {
  return (payload) => !payload.issues.some((issue) => fields.includes(String(issue.path?.[0])));
}

export const routesValid = fieldsValid('routes');
export const mountsValid = fieldsValid('volume', 'mounts');
export const hostNetworkValid = fieldsValid('port', 'security', 'scale');
export const execValid = fieldsValid('env', 'command');

/** Each variable (`NAME=value`) and each argument within what Linux passes to a program (exec-strings.ts). */
export function execStringsFit(doc: CrossFields, ctx: z.RefinementCtx): void {
  for (const [name, value] of Object.entries(doc.env ?? {})) {
    // A reference (fromFile, fromEnv) is read at create; its size is not known here.
    const text = typeof value === 'object' && value !== null ? (value as { secret?: unknown }).secret : value;
    if (text === undefined) continue;
    const message = execStringProblem(`${name}=${String(text)}`, 'the variable (NAME=value)');
    if (message) ctx.addIssue({ code: 'custom', path: ['env', name], message });
  }
  (doc.command ?? []).forEach((arg, i) => {
    const message = execStringProblem(arg, 'the argument');
    if (message) ctx.addIssue({ code: 'custom', path: ['command', i], message });
  });
}

/**
 * On the host network the app's port is the host's, checked against the gateway's own
 * ports and other apps' (host-ports.ts) before anything is stored; a port read from the
 * image only after that check would escape it.
 */
export function hostNetworkPort(doc: CrossFields, ctx: z.RefinementCtx): void {
  if (doc.security?.hostNetwork && doc.port === undefined) {
    ctx.addIssue({ code: 'custom', path: ['port'], message: 'must be given with security.hostNetwork: on the host network the port is the host\'s, and is checked against the gateway\'s own and other apps\'' });
  }
  // Every instance would listen on the one host port: the second fails to bind, yet is dialled at the first's address.
  const scale = doc.scale;
  if (doc.security?.hostNetwork && scale && Math.max(scale.min, scale.max ?? 1, scale.replicas ?? 1) > 1) {
    ctx.addIssue({ code: 'custom', path: ['scale'], message: 'must be at most 1 instance with security.hostNetwork: every instance would listen on the same host port' });
  }
}

/** Two equal routes in one app are a slip (often "/a" beside "/a/"). */
export function uniqueRoutes(doc: CrossFields, ctx: z.RefinementCtx): void {
  const seenRoutes = new Map<string, number>();
  (doc.routes ?? []).forEach((route, i) => {
    const key = routeKey(route);
    const first = seenRoutes.get(key);
    if (first === undefined) seenRoutes.set(key, i);
    else ctx.addIssue({ code: 'custom', path: ['routes', i], message: `same route as routes[${first}]` });
  });
}

/** Docker refuses two mounts at one container path; say which fields clash. */
export function uniqueMountTargets(doc: CrossFields, ctx: z.RefinementCtx): void {
  const seenTargets = new Map<string, string>();
  if (doc.volume !== undefined) seenTargets.set(trimSlash(doc.volume), 'volume');
  (doc.mounts ?? []).forEach((mount, i) => {
    const target = trimSlash(mount.target);
    const first = seenTargets.get(target);
    if (first === undefined) seenTargets.set(target, `mounts[${i}].target`);
    else ctx.addIssue({ code: 'custom', path: ['mounts', i, 'target'], message: `already used by ${first}` });
  });
}

function trimSlash(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}
