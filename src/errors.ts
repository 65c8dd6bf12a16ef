/**
 * The error catalogue. Every error berth raises on purpose is a BerthError with a
 * stable `code`; callers check the code, never the message. The mapping to HTTP
 * statuses and CLI exit codes lives here and nowhere else.
 */

/**
 * Every error berth answers with, once: its HTTP status, the CLI's exit code and
 * the problem+json title. Exit codes: 1 generic, 2 usage or spec, 3 not found,
 * 4 conflict, 5 auth, 6 server, engine or app (a thrown value that is no
 * BerthError is a bug of the CLI itself: 1). For a status that several codes
 * share, the first listed is the one a bare status stands for. `client_closed` has no answer on
 * the wire (nobody is left to read it); 499 is what logs and history record.
 */
export const ERROR_CATALOGUE = {
  spec_invalid: { status: 422, exit: 2, title: 'Unprocessable spec' },
  bad_request: { status: 400, exit: 2, title: 'Bad request' },
  config_invalid: { status: 400, exit: 2, title: 'Invalid configuration' },
  not_found: { status: 404, exit: 3, title: 'Not found' },
  no_route: { status: 404, exit: 3, title: 'No app here' },
  method_not_allowed: { status: 405, exit: 2, title: 'Method not allowed' },
  request_timeout: { status: 408, exit: 1, title: 'Request timeout' },
  client_body_timeout: { status: 408, exit: 1, title: 'Request body timeout' },
  conflict: { status: 409, exit: 4, title: 'Conflict' },
  payload_too_large: { status: 413, exit: 2, title: 'Payload too large' },
  unsupported_media_type: { status: 415, exit: 2, title: 'Unsupported media type' },
  expectation_failed: { status: 417, exit: 2, title: 'Expectation failed' },
  misdirected_request: { status: 421, exit: 2, title: 'Misdirected request' },
  too_many_requests: { status: 429, exit: 5, title: 'Too many requests' },
  too_many_headers: { status: 431, exit: 2, title: 'Request header fields too large' },
  unauthorized: { status: 401, exit: 5, title: 'Unauthorized' },
  forbidden: { status: 403, exit: 5, title: 'Forbidden' },
  policy_denied: { status: 403, exit: 2, title: 'Denied by policy' },
  client_closed: { status: 499, exit: 1, title: 'Client closed request' },
  internal: { status: 500, exit: 6, title: 'Internal error' },
  store_error: { status: 500, exit: 6, title: 'Store error' },
  runtime_error: { status: 502, exit: 6, title: 'Runtime error' },
  start_failed: { status: 502, exit: 6, title: 'App failed to start' },
  upstream_unavailable: { status: 502, exit: 6, title: 'Bad gateway' },
  overloaded: { status: 503, exit: 6, title: 'Service unavailable' },
  engine_unavailable: { status: 503, exit: 6, title: 'Engine unavailable' },
  store_unavailable: { status: 503, exit: 6, title: 'Store unavailable' },
  upstream_timeout: { status: 504, exit: 6, title: 'Gateway timeout' },
} as const satisfies Record<string, { status: number; exit: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export function isErrorCode(code: string | undefined): code is ErrorCode {
  return code !== undefined && Object.hasOwn(ERROR_CATALOGUE, code);
}

export interface BerthErrorOptions {
  cause?: unknown;
  /** Seconds a client should wait before trying again (sent as Retry-After). */
  retryAfterS?: number;
  /**
   * The message as an anonymous client of the proxy may read it, when the message
   * itself carries the gateway's setup (an engine's answer, a host path): see
   * proxy/public-reason.ts. Absent, the proxy answers a 5xx with a text by code.
   */
  publicMessage?: string;
}

/** One problem found in a spec or config, located by its field path. */
export interface FieldProblem {
  /** Where the problem is, e.g. `spec.routes[0].path` or `apps[2].name`. */
  path: string;
  message: string;
}

export class BerthError extends Error {
  readonly code: ErrorCode;
  /** Set when trying again later can succeed; every writer turns it into Retry-After. */
  readonly retryAfterS?: number;
  /** See BerthErrorOptions.publicMessage. */
  readonly publicMessage?: string;
  constructor(code: ErrorCode, message: string, options?: BerthErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options?.retryAfterS !== undefined) this.retryAfterS = options.retryAfterS;
    if (options?.publicMessage !== undefined) this.publicMessage = options.publicMessage;
    this.name = new.target.name;
  }
}

/** A spec (or a set of specs) was refused; `problems` lists every reason. */
export class SpecError extends BerthError {
  readonly problems: FieldProblem[];
  constructor(problems: FieldProblem[], source?: string) {
    const where = source ? `${source}: ` : '';
    super('spec_invalid', where + problems.map((p) => `${p.path}: ${p.message}`).join('; '));
    this.problems = problems;
  }
}

export class ConfigError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('config_invalid', message, options);
  }
}

export class NotFoundError extends BerthError {
  constructor(message: string) {
    super('not_found', message);
  }
}

/** The request clashes with what exists, e.g. a foreign container holds the app's name. */
export class ConflictError extends BerthError {
  constructor(message: string) {
    super('conflict', message);
  }
}

/** A spec asks Docker for something the gateway's policy does not allow; `problems` names each field. */
export class PolicyError extends BerthError {
  readonly problems: FieldProblem[];
  constructor(problems: FieldProblem[]) {
    super('policy_denied', problems.map((p) => `${p.path}: ${p.message}`).join('; '));
    this.problems = problems;
  }
}

/**
 * A container about to start has powers over the host the policy denies, which berth did not give it
 * (made or changed outside berth under berth's labels): the caller makes the container anew from its spec.
 */
export class ContainerPowersError extends PolicyError {}

/** Missing or wrong credentials; the body never says which. */
export class UnauthorizedError extends BerthError {
  constructor() {
    super('unauthorized', 'a valid token is required: send Authorization: Bearer <token>');
  }
}

/** The request itself is malformed (bad JSON, unknown parameter value). */
export class BadRequestError extends BerthError {
  constructor(message: string) {
    super('bad_request', message);
  }
}

export class RuntimeError extends BerthError {
  constructor(message: string, options?: { cause?: unknown; publicMessage?: string }) {
    super('runtime_error', message, options);
  }
}

export class StoreError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('store_error', message, options);
  }
}

/**
 * The shared store (PostgreSQL) cannot be reached: desired state cannot change now.
 * Answered 503 with Retry-After; running apps keep being served meanwhile.
 */
export class StoreUnavailableError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('store_unavailable', message, { cause: options?.cause, retryAfterS: 5 });
  }
}

/**
 * The Docker engine does not answer (refused, no socket, or silent past the engine
 * timeout): the gateway's trouble, not the app's. Answered 503 with Retry-After, and
 * not counted as a crash of the app.
 */
export class EngineUnavailableError extends BerthError {
  declare readonly retryAfterS: number;
  constructor(message: string, retryAfterS: number, options?: { cause?: unknown }) {
    super('engine_unavailable', message, { cause: options?.cause, retryAfterS });
  }
}

/** No route matches the request's host and path. */
export class NoRouteError extends BerthError {
  constructor(message: string) {
    super('no_route', message);
  }
}

/**
 * A retry found no ready instance besides the one whose connection just
 * failed. The proxy answers with that failure itself unless the instance
 * turns out to be gone.
 */
export class NoOtherInstanceError extends BerthError {
  constructor(app: string, instanceId: string) {
    super('upstream_unavailable', `app ${app} has no ready instance besides ${instanceId}`);
  }
}

/**
 * The app's start ended without a ready instance (image missing, container exited,
 * ...); carries the reason for every waiter. A start that ran out of time is the
 * gateway's timeout (504), any other failure the app's (502).
 */
export class StartFailedError extends BerthError {
  /**
   * `publicReason` is the reason as a client of the proxy may read it: by default the
   * reason itself (what the app did: exited with code 3, not ready in time), null when
   * the reason is the gateway's setup (the engine's answer, a host path, a policy root).
   */
  constructor(app: string, reason: string, timedOut: boolean, publicReason: string | null = reason) {
    super(timedOut ? 'upstream_timeout' : 'start_failed', `app ${app} failed to start: ${reason}`, {
      publicMessage: publicReason === null ? `app ${app} failed to start` : `app ${app} failed to start: ${publicReason}`,
    });
  }
}

/**
 * With `workers: N`, a proxy worker's control process (the activator's) has said
 * nothing for its watchdog's bound: it is stopped or stalled, so an app that is not
 * running cannot be woken through this worker now. 503 with Retry-After.
 */
export class ControlSilentError extends BerthError {
  constructor(app: string, silentMs: number) {
    const message = `app ${app} is not running and the gateway's control process has not answered for ${Math.round(silentMs / 1000)} s; try again shortly`;
    super('overloaded', message, { retryAfterS: 5, publicMessage: message });
  }
}

/** The client went away before its answer; nobody is left to answer. */
export class ClientClosedError extends BerthError {
  constructor(message = 'the client closed the connection') {
    super('client_closed', message);
  }
}

/** The caller is known (or needs no identity) but may not have this, e.g. a wrong input secret. */
export class ForbiddenError extends BerthError {
  constructor(message: string) {
    super('forbidden', message);
  }
}

export function httpStatusOf(err: unknown): number {
  return err instanceof BerthError ? ERROR_CATALOGUE[err.code].status : 500;
}

export function exitCodeOf(err: unknown): number {
  return err instanceof BerthError ? ERROR_CATALOGUE[err.code].exit : 1;
}

/** The catalogue code an error answers with: its own, or `internal` for anything unplanned. */
export function codeOf(err: unknown): ErrorCode {
  return err instanceof BerthError ? err.code : 'internal';
}

/**
 * What a container that died while it started wrote last (runtime/last-output.ts),
 * carried beside an error's message rather than in it: the message reaches the
 * app's public clients (a 502's detail, the waiting page), and an app's output may
 * hold anything (a connection string, a stack trace). It goes where operators look:
 * the app's lastError and the gateway log.
 */
export function withLastOutput<E extends Error>(err: E, said: string | undefined): E {
  if (said !== undefined) Object.defineProperty(err, 'lastOutput', { value: said, enumerable: false });
  return err;
}

/** The quote withLastOutput put on `err`, if any. */
export function lastOutputOf(err: unknown): string | undefined {
  const said = (err as { lastOutput?: unknown } | undefined)?.lastOutput;
  return typeof said === 'string' ? said : undefined;
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * A change asked of a gateway that is stopping: its admin listener stays up through
 * the drain (for GET /v1/health), but what would start, stop or store something now
 * could meet the store and the activator as they close. 503 with Retry-After.
 */
export class ShuttingDownError extends BerthError {
  constructor() {
    super('overloaded', 'the gateway is shutting down; send this to another gateway, or again once this one is back', { retryAfterS: 5 });
  }
}
