import type { IncomingMessage } from 'node:http';
import type { BalancePolicyName } from '../../spec/types.js';
import type { Upstream } from '../upstream.js';
import { CookieSticky } from './cookie.js';
import { LeastConnections } from './least-connections.js';
import { RandomOfTwo } from './random-two.js';
import { RoundRobin } from './round-robin.js';

/** One instance as a policy sees it. */
export interface Candidate {
  /** The instance; `upstream.instanceId` identifies it. */
  upstream: Upstream;
  /** Requests in flight to it right now (kept by the proxy). */
  inFlight: number;
  /** Healthy and not draining: only available candidates may be chosen. */
  available: boolean;
}

/** What a policy chose for one request. */
export interface Selection {
  candidate: Candidate;
  /** A Set-Cookie header value to send with the response (sticky sessions), if any. */
  setCookie?: string;
}

/**
 * How requests are spread over an app's instances, as Caddy's selection
 * policies do it: a policy sees only the candidates and whether each is
 * available, never health checks or drain state themselves, so policies stay
 * small and interchangeable and one app can switch policy on a reload.
 */
export interface BalancerPolicy {
  readonly name: BalancePolicyName;
  /** Whether `select` reads the request (a sticky cookie does): with one instance and no need, there is no choice to make. */
  readonly needsRequest: boolean;
  /**
   * Picks one available candidate, or undefined when none is available. Runs on
   * every request, so it is O(n) in the candidates and allocates no more than
   * the returned selection.
   */
  select(candidates: readonly Candidate[], req: IncomingMessage): Selection | undefined;
}

/**
 * The policy an app's spec names. Each app gets its own instance because
 * policies keep per-app state (a rotation position, the sticky cookie's name).
 */
export function createBalancerPolicy(name: BalancePolicyName, app: string): BalancerPolicy {
  switch (name) {
    case 'least-connections':
      return new LeastConnections();
    case 'round-robin':
      return new RoundRobin();
    case 'random-two':
      return new RandomOfTwo();
    case 'cookie':
      return new CookieSticky(app);
    default: {
      // Specs are validated before they get here; reaching this is a bug.
      const unknown: never = name;
      throw new TypeError(`unknown balancing policy ${String(unknown)}`);
    }
  }
}
