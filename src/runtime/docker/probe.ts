import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { EngineUnavailableError } from '../../errors.js';
import type { DockerEndpoint } from './client.js';
import { engineTimeoutError } from './engine-timeout.js';
import { ENGINE_RETRY_AFTER_S, engineUnreachableMessage } from './errors.js';
import type { TlsFiles } from './tls-files.js';

/**
 * How long the engine may take to answer a probe. Short: a probe that times out
 * only keeps an outage going until the next one (250 ms later), while one left
 * hanging on a connection opened during the outage would hide the engine's return.
 */
export const PROBE_TIMEOUT_MS = 1_000;

/**
 * Asks the engine's /_ping on a connection of its own (`agent: false`), never one
 * dockerode kept alive: an engine behind a wedged proxy, or one restarting, can
 * still answer on an old connection while new ones hang, and every real call
 * dials a new one once the old have failed.
 */
export function probeEngine(endpoint: DockerEndpoint, tls: () => TlsFiles | undefined, timeoutMs = PROBE_TIMEOUT_MS): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (cause: unknown) => reject(new EngineUnavailableError(engineUnreachableMessage(endpoint.url, cause), ENGINE_RETRY_AFTER_S, { cause }));
    let files: TlsFiles | undefined;
    try {
      files = tls();
    } catch (err) {
      reject(err);
      return;
    }
    const where = endpoint.kind === 'unix' ? { socketPath: endpoint.socketPath } : { host: endpoint.host, port: endpoint.port };
    const options: RequestOptions = { ...where, method: 'GET', path: '/_ping', agent: false, signal: AbortSignal.timeout(timeoutMs), ...files };
    const req = (files ? httpsRequest : httpRequest)(options, (res) => {
      res.resume();
      if (res.statusCode === 200) resolve();
      else fail(new Error(`/_ping answered ${res.statusCode ?? 'nothing'}`));
    });
    req.on('error', (err) => fail(err.name === 'AbortError' ? engineTimeoutError(timeoutMs) : err));
    req.end();
  });
}
