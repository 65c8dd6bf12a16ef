import type { ErrorCode } from '../errors.js';

/**
 * What an anonymous client of the proxy listener is told about a failure. The full
 * reason of a failed start names the gateway's setup (`Docker engine at tcp://…
 * said …`, a `policy.secretFiles` root, a host path, an instance's address); it
 * stays on the admin API, the CLI, the dashboard and the logs. A client gets what
 * helps it: the app failed to start, was not ready in time, or is crash-looping
 * until a retry, as Traefik or a Kubernetes ingress answer a bare 502/503/504.
 */
export interface PublicReasonInput {
  code: ErrorCode;
  /** The full reason: public only for a 4xx, which is about the client's own request. */
  reason: string;
  status: number;
  /** A text its maker vouched for as public (composed from the app's name and bounds only). */
  publicMessage?: string;
  app?: string;
  retryAfterS?: number;
}

/** The reason as a client of the proxy may read it. Pure. */
export function publicReason(input: PublicReasonInput): string {
  if (input.publicMessage !== undefined) return input.publicMessage;
  // A 4xx is about the request itself (its target, headers, body, host): the client sent all of it.
  if (input.status < 500) return input.reason;
  const subject = input.app === undefined ? 'the app' : `app ${input.app}`;
  const retry = input.retryAfterS === undefined ? '' : `; try again in ${input.retryAfterS} s`;
  switch (input.code) {
    case 'start_failed':
      return `${subject} failed to start${retry}`;
    case 'upstream_timeout':
      return `${subject} did not answer in time${retry}`;
    case 'upstream_unavailable':
      return `${subject} is unavailable${retry}`;
    case 'overloaded':
      return `${subject} cannot take requests right now${retry}`;
    case 'engine_unavailable':
    case 'runtime_error':
      return `the gateway cannot start or reach ${subject} right now${retry}`;
    default:
      return `the gateway failed to serve ${subject}${retry}`;
  }
}
