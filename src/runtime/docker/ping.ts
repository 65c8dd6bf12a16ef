import { EngineUnavailableError } from '../../errors.js';
import type { DockerContext } from './context.js';
import { ENGINE_RETRY_AFTER_S, engineUnreachableMessage } from './errors.js';

/** How long an engine may take to answer /_ping before berth calls it unreachable. */
const PING_TIMEOUT_MS = 5_000;

/**
 * Checks that the engine answers. A tcp:// host that drops packets would otherwise
 * hang forever, hence the timeout (dockerode's typings omit ping's abortSignal option).
 */
export async function pingEngine(ctx: DockerContext, timeoutMs = PING_TIMEOUT_MS): Promise<void> {
  const docker = ctx.docker() as unknown as { ping(options: { abortSignal: AbortSignal }): Promise<unknown> };
  try {
    await docker.ping({ abortSignal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const cause = (err as Error)?.name === 'AbortError' || (err as Error)?.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : err;
    throw new EngineUnavailableError(engineUnreachableMessage(ctx.endpoint.url, cause), ENGINE_RETRY_AFTER_S, { cause: err });
  }
}
