/**
 * Checks a whole set of apps, as the gateway will run them together: unique and
 * unreserved names, no two apps answering the same route, and every app within
 * the gateway's Docker policy. Problems are located as `apps[i].<field>`, i being
 * the app's index in the list given, and each message names the app.
 */
import { PolicyError, SpecError } from '../errors.js';
import { type SpecIssue, toFieldProblems } from './path.js';
import { policyIssues } from './policy.js';
import { RESERVED_NAMES } from './reserved-names.js';
import { routeCollisions } from './route-collisions.js';
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

/**
 * Throws SpecError listing every problem of the set; returns quietly when there
 * is none. A set whose only problems are what the policy denies throws a
 * PolicyError instead (403 rather than 422: the spec is fine, the gateway says no).
 */
export function validateAppSet(specs: readonly AppSpec[], policy?: DockerPolicy): void {
  const issues = [...nameIssues(specs), ...routeCollisions(specs)];
  const denied: SpecIssue[] = [];
  if (policy) {
    specs.forEach((spec, i) => {
      for (const issue of policyIssues(spec, policy)) denied.push({ path: ['apps', i, ...issue.path], message: issue.message });
    });
  }
  if (issues.length > 0) throw new SpecError(toFieldProblems([...issues, ...denied]));
  if (denied.length > 0) throw new PolicyError(toFieldProblems(denied));
}
