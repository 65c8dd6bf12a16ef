/**
 * The error catalogue. Every error berth raises on purpose is a BerthError with a
 * stable `code`; callers check the code, never the message. The mapping to HTTP
 * statuses and CLI exit codes lives here and nowhere else.
 */

export type ErrorCode =
  | 'spec_invalid'
  | 'config_invalid'
  | 'not_found'
  | 'conflict'
  | 'unauthorized'
  | 'policy_denied'
  | 'runtime_error'
  | 'store_error'
  | 'upstream_unavailable'
  | 'upstream_timeout'
  | 'overloaded'
  | 'engine_unavailable'
  | 'bad_request';

/** One problem found in a spec or config, located by its field path. */
export interface FieldProblem {
  /** Where the problem is, e.g. `spec.routes[0].path` or `apps[2].name`. */
  path: string;
  message: string;
}

export class BerthError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
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
  constructor(message: string, options?: { cause?: unknown }) {
    super('runtime_error', message, options);
  }
}

export class StoreError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('store_error', message, options);
  }
}

/**
 * The Docker engine does not answer (refused, no socket, or silent past the engine
 * timeout): the gateway's trouble, not the app's. Answered 503 with Retry-After, and
 * not counted as a crash of the app.
 */
export class EngineUnavailableError extends BerthError {
  constructor(
    message: string,
    readonly retryAfterS: number,
    options?: { cause?: unknown },
  ) {
    super('engine_unavailable', message, options);
  }
}

const httpStatusByCode: Record<ErrorCode, number> = {
  spec_invalid: 422,
  config_invalid: 400,
  not_found: 404,
  conflict: 409,
  unauthorized: 401,
  policy_denied: 403,
  runtime_error: 502,
  store_error: 500,
  upstream_unavailable: 502,
  upstream_timeout: 504,
  overloaded: 503,
  engine_unavailable: 503,
  bad_request: 400,
};

/** Exit codes of the CLI: 1 generic, 2 usage, 3 not found, 4 conflict, 5 auth, 6 server/runtime. */
const exitCodeByCode: Record<ErrorCode, number> = {
  spec_invalid: 2,
  config_invalid: 2,
  not_found: 3,
  conflict: 4,
  unauthorized: 5,
  policy_denied: 2,
  runtime_error: 6,
  store_error: 6,
  upstream_unavailable: 6,
  upstream_timeout: 6,
  overloaded: 6,
  engine_unavailable: 6,
  bad_request: 2,
};

export function httpStatusOf(err: unknown): number {
  return err instanceof BerthError ? httpStatusByCode[err.code] : 500;
}

export function exitCodeOf(err: unknown): number {
  return err instanceof BerthError ? exitCodeByCode[err.code] : 1;
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
