import { BerthError, ConflictError, EngineUnavailableError, NotFoundError, RuntimeError, messageOf } from '../../errors.js';
import { ENGINE_GARBLED_CODE } from './engine-answers.js';
import { ENGINE_TIMEOUT_CODE } from './engine-timeout.js';

/** The shape of what dockerode / docker-modem reject with. */
interface DockerodeError {
  statusCode?: number;
  code?: string;
  json?: { message?: string } | null;
  reason?: string;
  message?: string;
}

/** Socket-level failures that mean "no engine there", as opposed to "the engine said no". */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND']);

/**
 * What a client told "the engine is unavailable" is asked to wait: long enough
 * for a restarting dockerd, short enough that a browser retry soon succeeds.
 */
export const ENGINE_RETRY_AFTER_S = 5;

/** Whether `err` says no engine answers: refused, no socket, unreachable, or silent past the engine timeout. */
export function isEngineUnreachable(err: unknown): boolean {
  const code = (err as DockerodeError)?.code;
  return code !== undefined && (code === ENGINE_TIMEOUT_CODE || UNREACHABLE.has(code));
}

/** The user-facing sentence for an engine that does not answer; also used by ping(). */
export function engineUnreachableMessage(endpointUrl: string, cause?: unknown): string {
  const code = (cause as DockerodeError | undefined)?.code;
  const detail = cause === undefined ? '' : ` (${code === ENGINE_TIMEOUT_CODE || code === undefined ? messageOf(cause) : code})`;
  return `Docker engine at ${endpointUrl} does not answer${detail}: is dockerd running? run scripts/ensure-docker.sh`;
}

/** The engine's own explanation (it sends `{"message": …}`), else dockerode's. */
export function engineMessage(err: unknown): string {
  const e = err as DockerodeError;
  return e?.json?.message ?? e?.reason ?? messageOf(err);
}

export function statusOf(err: unknown): number | undefined {
  return (err as DockerodeError)?.statusCode;
}

/**
 * The one place where dockerode's errors become berth's typed errors. `doing` says
 * what berth was doing ("starting container berth-hello-0"), so every message reads
 * "<doing>: <why>" and carries the engine's own explanation. BerthErrors pass through.
 */
export function mapDockerError(err: unknown, doing: string, endpointUrl: string): BerthError {
  if (err instanceof BerthError) return err;
  const e = err as DockerodeError;
  if (e?.code === 'EACCES') {
    return new RuntimeError(
      `${doing}: permission denied on the Docker socket at ${endpointUrl}; run berth as root or as a member of the docker group`,
      { cause: err },
    );
  }
  if (e?.code === 'EMFILE' || e?.code === 'ENFILE') {
    // berth itself is out of file descriptors: not the engine's fault, nor the app's.
    return new EngineUnavailableError(`${doing}: the gateway is out of file descriptors (${e.code})`, 1, { cause: err });
  }
  if (e?.code === ENGINE_GARBLED_CODE) {
    // Something answers at the address, but not as the Engine API does: a proxy in front of it, or a body cut short.
    return new EngineUnavailableError(`${doing}: Docker engine at ${endpointUrl} ${messageOf(err)}`, ENGINE_RETRY_AFTER_S, { cause: err });
  }
  if (isEngineUnreachable(err)) {
    return new EngineUnavailableError(`${doing}: ${engineUnreachableMessage(endpointUrl, err)}`, ENGINE_RETRY_AFTER_S, { cause: err });
  }
  switch (e?.statusCode) {
    case 404:
      return new NotFoundError(`${doing}: ${engineMessage(err)}`);
    case 409:
      return new ConflictError(`${doing}: ${engineMessage(err)}`);
    default:
      return new RuntimeError(`${doing}: Docker engine at ${endpointUrl} said: ${engineMessage(err)}`, { cause: err });
  }
}
