/**
 * The launch policy where containers are made. A spec was checked against the
 * gateway's policy when it was accepted, but the policy may narrow afterwards (a
 * reload checks only the config's own apps, so an API app accepted before stays
 * declared). Every create and start of a container is checked again here: the cold
 * start, replica fills, restarts of an instance and creates ahead of a request alike.
 */
import { policyIssues } from '../spec/policy.js';
import type { AppSpec, DockerPolicy } from '../spec/types.js';

/** Why the policy in force now refuses to run `spec`, or undefined when it allows it. */
export function launchRefusal(spec: AppSpec, policy: DockerPolicy): string | undefined {
  const denied = policyIssues(spec, policy);
  if (denied.length === 0) return undefined;
  return `the gateway's policy no longer allows it: ${denied.map((d) => d.message).join('; ')}`;
}

/**
 * The apps among `specs` that `policy` refuses, each with why. A reload checks the
 * API's apps with this (it refuses only its own config's apps): they stay declared,
 * their running containers run on until stopped, and no new container is made for
 * them, which the operator who narrowed the policy must be told.
 */
export function launchRefusals(specs: readonly AppSpec[], policy: DockerPolicy): Array<{ app: string; reason: string }> {
  return specs.flatMap((spec) => {
    const reason = launchRefusal(spec, policy);
    return reason === undefined ? [] : [{ app: spec.name, reason }];
  });
}

/**
 * launchRefusal of a spec under a policy, kept until either changes (by identity:
 * a reload or an apply makes new objects). The status of every app asks for it,
 * and the API lists thousands of apps at a time.
 */
export class LaunchRefusalMemo {
  private spec?: AppSpec;
  private policy?: DockerPolicy;
  private refusal?: string;

  /** The refusal last worked out, without working it out again (undefined before the first). */
  get last(): string | undefined {
    return this.refusal;
  }

  of(spec: AppSpec, policy: DockerPolicy): string | undefined {
    if (spec !== this.spec || policy !== this.policy) {
      this.refusal = launchRefusal(spec, policy);
      this.spec = spec;
      this.policy = policy;
    }
    return this.refusal;
  }
}
