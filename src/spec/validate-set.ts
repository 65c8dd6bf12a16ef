/**
 * Checks a whole set of apps, as the gateway will run them together: unique and
 * unreserved names, no two apps answering the same route, dependsOn naming apps
 * of the set without cycles, input within the gateway's size limit, and every app
 * within the gateway's Docker policy. Problems are located at the spec's origin
 * (a file and document, the request body) when given, as `apps[i].<field>` otherwise,
 * and each message names the app.
 */
import { PolicyError, SpecError } from '../errors.js';
import { dependsOnIssues } from './depends-on.js';
import { execStringProblem } from './exec-strings.js';
import { formatPath, type SpecIssue } from './path.js';
import type { FieldProblem } from '../errors.js';
import { hostPortIssues, type GatewayPorts } from './host-ports.js';
import { policyIssues } from './policy.js';
import { listed } from './problem-list.js';
import { RESERVED_NAMES } from './reserved-names.js';
import { effectiveHost, routeCollisions } from './route-collisions.js';
import type { AppSpec, DockerPolicy } from './types.js';

function nameIssues(specs: readonly AppSpec[], where?: readonly (string | undefined)[]): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const firstIndex = new Map<string, number>();
  specs.forEach((spec, i) => {
    const path = ['apps', i, 'name'];
    if (RESERVED_NAMES.has(spec.name)) {
      issues.push({ path, message: `"${spec.name}" is reserved: berth uses it for its own paths and hosts` });
    }
    const first = firstIndex.get(spec.name);
    if (first === undefined) firstIndex.set(spec.name, i);
    else issues.push({ path, message: `"${spec.name}" is also the name of ${where?.[first] ?? `apps[${first}]`}; app names must be unique` });
  });
  return issues;
}

/** What the gateway's config limits (`limits:`). */
export interface SetLimits {
  /** Most bytes of an app's input JSON (UTF-8, as stored). */
  inputBytes: number;
}

function inputIssues(specs: readonly AppSpec[], limits: SetLimits): SpecIssue[] {
  const issues: SpecIssue[] = [];
  specs.forEach((spec, i) => {
    if (!spec.input) return;
    const bytes = Buffer.byteLength(spec.input.json);
    if (bytes > limits.inputBytes) {
      issues.push({
        path: ['apps', i, 'input', 'data'],
        message: `app "${spec.name}": input is ${bytes} bytes of JSON, more than the gateway's limit of ${limits.inputBytes} bytes (limits.inputBytes)`,
      });
    }
    const inEnv = spec.input.as === 'env' && execStringProblem(`${spec.input.env}=${spec.input.json}`, 'its variable (NAME=JSON)');
    if (inEnv) issues.push({ path: ['apps', i, 'input', 'data'], message: `app "${spec.name}": input as env: ${inEnv}; deliver it as: file or url` });
  });
  return issues;
}

/** Route hosts that name the admin listener (see reservedRouteHosts), a wildcard by the host it gives this app. */
function reservedHostIssues(specs: readonly AppSpec[], reserved: ReadonlySet<string>): SpecIssue[] {
  const issues: SpecIssue[] = [];
  specs.forEach((spec, i) =>
    spec.routes.forEach((route, j) => {
      const host = effectiveHost(route, spec.name)?.toLowerCase().replace(/\.$/, '');
      if (host !== undefined && reserved.has(host)) {
        issues.push({ path: ['apps', i, 'routes', j, 'host'], message: `app "${spec.name}": "${route.host}" is the admin listener's host name, which no route may claim` });
      }
    }),
  );
  return issues;
}

/** What the gateway itself holds, which no app may claim. */
export interface GatewayClaims {
  /** Route hosts naming the admin listener (reservedRouteHosts). */
  hosts?: ReadonlySet<string>;
  /** The listener ports, which an app on the host network would take (host-ports.ts). */
  ports?: GatewayPorts;
}

/**
 * Throws SpecError listing every problem of the set; returns quietly when there
 * is none. A set whose only problems are what the policy denies throws a
 * PolicyError instead (403 rather than 422: the spec is fine, the gateway says no).
 */
export function validateAppSet(
  specs: readonly AppSpec[],
  policy?: DockerPolicy,
  limits?: SetLimits,
  reserved?: GatewayClaims,
  /** Apps checked against the policy (default: all); an apply checks only the apps it brings, so a stored app whose mount source vanished does not block the others. */
  policyFor?: ReadonlySet<string>,
  /**
   * Where each spec came from, by index (`apps/web.yaml, document 2`, `request body`):
   * a problem of spec i is then located there (`apps/web.yaml, document 2: routes[0].path`)
   * instead of at its index in the whole set, which tells the reader nothing.
   */
  origins?: readonly (string | undefined)[],
): void {
  const toFieldProblems = (list: SpecIssue[]) => list.map((issue) => locate(issue, origins));
  const issues = [...nameIssues(specs, origins), ...routeCollisions(specs), ...dependsOnIssues(specs), ...hostPortIssues(specs, reserved?.ports)];
  if (limits) issues.push(...inputIssues(specs, limits));
  if (reserved?.hosts) issues.push(...reservedHostIssues(specs, reserved.hosts));
  const denied: SpecIssue[] = [];
  if (policy) {
    specs.forEach((spec, i) => {
      if (policyFor && !policyFor.has(spec.name)) return;
      for (const issue of policyIssues(spec, policy)) denied.push({ path: ['apps', i, ...issue.path], message: issue.message });
    });
  }
  // As a document's own problems are: one spec's 250,000 dependsOn entries made a 20 MB refusal, answered as a 500.
  if (issues.length > 0) throw new SpecError(listed(toFieldProblems([...issues, ...denied])));
  if (denied.length > 0) throw new PolicyError(listed(toFieldProblems(denied)));
}

/** A set-level issue (`apps[i].<field>`) as a problem, located at spec i's origin when it has one. */
function locate(issue: SpecIssue, origins: readonly (string | undefined)[] | undefined): FieldProblem {
  const [head, index, ...rest] = issue.path;
  const origin = head === 'apps' && typeof index === 'number' ? origins?.[index] : undefined;
  if (origin === undefined) return { path: formatPath(issue.path), message: issue.message };
  // An inline spec's origin is its own path in the config (`apps[2]`), continued by the field's.
  if (origin.endsWith(']')) return { path: formatPath(rest, origin), message: issue.message };
  return { path: rest.length === 0 ? origin : `${origin}: ${formatPath(rest)}`, message: issue.message };
}
