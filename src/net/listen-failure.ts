import { ConfigError } from '../errors.js';

/**
 * A listener that could not open, told as the config key it comes from. Node's own
 * words ("listen EADDRINUSE: address already in use 127.0.0.1:8081") name no key and
 * read as the `listen` key whichever listener failed (admin, tls.listen). Errors
 * without an errno code (not the kernel's refusal) are returned as they are. Pure.
 */
export function listenFailure(key: string, host: string, port: number, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const why = code === undefined ? undefined : LISTEN_REASONS[code]?.(port);
  if (why === undefined) return err;
  const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return new ConfigError(`${key}: cannot listen on ${address}: ${why} (${code})`, { cause: err });
}

const LISTEN_REASONS: Record<string, (port: number) => string> = {
  EADDRINUSE: () => 'the port is in use (another process, or another listener of this config, is on it)',
  EADDRNOTAVAIL: () => 'that address is not one of this host\'s',
  EACCES: (port) => (port < 1024 ? 'a port below 1024 needs root or the CAP_NET_BIND_SERVICE capability' : 'permission denied'),
  EPERM: () => 'permission denied',
};
