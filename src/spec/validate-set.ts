/**
 * Checks a whole set of apps, as the gateway will run them together: unique and
 * unreserved names, no two apps answering the same route, dependsOn naming apps
 * of the set without cycles, input within the gateway's size limit, and every app
 * within the gateway's Docker policy. Problems are located as `apps[i].<field>`, i being
 * the app's index in the list given, and each message names the app.
 */
import { PolicyError, SpecError } from '../errors.js';
import { dependsOnIssues } from './depends-on.js';
import { type SpecIssue, toFieldProblems } from './path.js';
import { policyIssues } from './policy.js';
import { RESERVED_NAMES } from './reserved-names.js';
import { effectiveHost, routeCollisions } from './route-collisions.js';
import type { AppSpec, DockerPolicy } from './types.js';

function nameIssues(specs: readonly AppSpec[]): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const firstIndex = new Map<string, number>();
  specs.forEach((spec, i) => {
    const path = ['apps', i, 'name'];
    if (RESERVED_NAMES.has(spec.name)) {
      issues.push({ path, message: `"${spec.name}" is reserved: berth uses it for its own paths and hosts` });
    }
    const first = firstIndex.get(spec.name);
    if (first === undefined) firstIndex.set(spec.name, i);
    else issues.push({ path, message: `"${spec.name}" is also the name of apps[${first}]; app names must be unique` });
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

/**
 * Throws SpecError listing every problem of the set; returns quietly when there
 * is none. A set whose only problems are what the policy denies throws a
 * PolicyError instead (403 rather than 422: the spec is fine, the gateway says no).
 */
export function validateAppSet(
  specs: readonly AppSpec[],
  policy?: DockerPolicy,
  limits?: SetLimits,
  reservedHosts?: ReadonlySet<string>,
  /** Apps checked against the policy (default: all); an apply checks only the apps it brings, so a stored app whose mount source vanished does not block the others. */
  policyFor?: ReadonlySet<string>,
): void {
  const issues = [...nameIssues(specs), ...routeCollisions(specs), ...dependsOnIssues(specs)];
  if (limits) issues.push(...inputIssues(specs, limits));
  if (reservedHosts) issues.push(...reservedHostIssues(specs, reservedHosts));
  const denied: SpecIssue[] = [];
  if (policy) {
    specs.forEach((spec, i) => {
      if (policyFor && !policyFor.has(spec.name)) return;
      for (const issue of policyIssues(spec, policy)) denied.push({ path: ['apps', i, ...issue.path], message: issue.message });
    });
  }
  if (issues.length > 0) throw new SpecError(toFieldProblems([...issues, ...denied]));
  if (denied.length > 0) throw new PolicyError(toFieldProblems(denied));
}
