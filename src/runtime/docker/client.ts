import { homedir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { ConfigError } from '../../errors.js';
import { engineAgent } from './engine-agent.js';
import { refuseGarbledAnswers } from './engine-answers.js';
import { DEFAULT_ENGINE_TIMEOUT_MS, boundEngineCalls } from './engine-timeout.js';
import { readTlsFiles } from './tls-files.js';

/** Where the Docker engine listens, as the user wrote it and as dockerode needs it. */
export interface DockerEndpoint {
  /** Normalized address for messages: `unix:///var/run/docker.sock`, `tcp://host:2375`. */
  url: string;
  kind: 'unix' | 'tcp';
  socketPath?: string;
  host?: string;
  port?: number;
  /** TLS as the docker CLI does it: DOCKER_TLS_VERIFY=1 or port 2376, certs from DOCKER_CERT_PATH. */
  tls?: { certPath: string };
}

export const DEFAULT_DOCKER_URL = 'unix:///var/run/docker.sock';

/**
 * Resolves the engine address: the explicit `docker` setting of the gateway config
 * wins, then DOCKER_HOST (as the docker CLI and Traefik honour it), then the local
 * socket. Pure: reads only the given environment, so it is safe in a constructor.
 */
export function resolveDockerEndpoint(configured?: string, env: NodeJS.ProcessEnv = process.env): DockerEndpoint {
  const raw = configured?.trim() || env['DOCKER_HOST']?.trim() || DEFAULT_DOCKER_URL;
  if (raw.startsWith('unix://')) {
    const socketPath = raw.slice('unix://'.length) || '/var/run/docker.sock';
    return { url: `unix://${socketPath}`, kind: 'unix', socketPath };
  }
  if (raw.startsWith('/')) return { url: `unix://${raw}`, kind: 'unix', socketPath: raw };
  // A bare `host:port` is what some users put in DOCKER_HOST; the docker CLI reads it as tcp.
  const withScheme = raw.includes('://') ? raw : `tcp://${raw}`;
  let parsed: URL;
  try {
    parsed = new URL(withScheme);
  } catch {
    throw new ConfigError(`docker: "${raw}" is not an engine address; use unix:///var/run/docker.sock or tcp://host:2375`);
  }
  if (!['tcp:', 'http:', 'https:'].includes(parsed.protocol) || !parsed.hostname) {
    throw new ConfigError(`docker: "${raw}" is not supported; use unix:///path/to/docker.sock or tcp://host:port`);
  }
  const port = Number(parsed.port || (parsed.protocol === 'https:' ? 2376 : 2375));
  const wantsTls = parsed.protocol === 'https:' || env['DOCKER_TLS_VERIFY'] === '1' || port === 2376;
  const endpoint: DockerEndpoint = { url: `tcp://${parsed.hostname}:${port}`, kind: 'tcp', host: parsed.hostname, port };
  if (wantsTls) endpoint.tls = { certPath: env['DOCKER_CERT_PATH'] || join(homedir(), '.docker') };
  return endpoint;
}

/**
 * Builds the dockerode client. Call lazily (first use), never from a constructor:
 * reading TLS certificates is I/O.
 *
 * docker-modem merges its own DOCKER_HOST-derived defaults under the options we give
 * it, so a DOCKER_HOST=tcp://… in the environment would silently override an explicit
 * unix socket. Every connection field is therefore set, to undefined when unused.
 * `timeout` is pinned to undefined too: DOCKER_CLIENT_TIMEOUT would otherwise cut
 * long-lived event and log streams; calls are bounded by `engineTimeoutMs` instead
 * (see boundEngineCalls), streams only until they answer. An answer that is not the
 * Engine API's fails its call (see refuseGarbledAnswers) instead of reaching callers.
 */
export function createDockerClient(endpoint: DockerEndpoint, engineTimeoutMs = DEFAULT_ENGINE_TIMEOUT_MS): Docker {
  const tls = readTlsFiles(endpoint);
  // dockerode's typings omit `agent`, which it hands to docker-modem as it is.
  const docker = new Docker({
    socketPath: endpoint.socketPath,
    host: endpoint.host,
    port: endpoint.port,
    protocol: endpoint.kind === 'unix' ? undefined : tls ? 'https' : 'http',
    // An answer cut short fails its call at once (see engineAgent) rather than at the engine timeout.
    agent: engineAgent(endpoint.kind === 'tcp' && tls !== undefined),
    ca: tls?.ca,
    cert: tls?.cert,
    key: tls?.key,
    timeout: undefined,
  } as Docker.DockerOptions);
  return boundEngineCalls(refuseGarbledAnswers(docker), engineTimeoutMs);
}
