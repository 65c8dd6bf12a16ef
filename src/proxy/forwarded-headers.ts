import type { IncomingMessage } from 'node:http';

/**
 * Hop-by-hop headers (RFC 9110 §7.6.1) describe one connection, not the message,
 * so a proxy must not pass them on. `expect` is answered by berth's own server
 * (Node sends the 100 Continue), and undici refuses to send it.
 */
const HOP_BY_HOP = new Set([
  'expect',
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

const FORWARDED = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host']);

export interface ForwardOptions {
  /** The peer is a proxy we trust: extend its X-Forwarded-* instead of replacing them. */
  trustedPeer: boolean;
  /** Extra headers for the upstream, as [name, value, ...]: the request id (`x-request-id`). */
  extra?: readonly string[];
  /** Keep `connection: upgrade` and `upgrade`, for WebSocket handshakes. */
  upgrade?: boolean;
}

/**
 * The request headers to send upstream as a flat [name, value, ...] list: the
 * client's headers minus hop-by-hop ones (and any the Connection header names),
 * with X-Forwarded-For/Proto/Host set by berth. Client-supplied X-Forwarded-*
 * are replaced, unless the peer is a trusted proxy, because anyone can send them.
 * The client's X-Request-Id is dropped too: the proxy sends the request's id in
 * `extra` (the client's own when it is sane, see request-id.ts).
 */
export function upstreamRequestHeaders(req: IncomingMessage, options: ForwardOptions): string[] {
  const raw = req.rawHeaders;
  const connectionTokens = connectionHeaderTokens(req.headers.connection);
  const out: string[] = [];
  let priorFor: string | undefined;
  let priorProto: string | undefined;
  let priorHost: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (FORWARDED.has(lower)) {
      if (options.trustedPeer) {
        const value = raw[i + 1]!;
        if (lower === 'x-forwarded-for') priorFor = priorFor ? `${priorFor}, ${value}` : value;
        else if (lower === 'x-forwarded-proto') priorProto ??= value;
        else priorHost ??= value;
      }
      continue;
    }
    if (HOP_BY_HOP.has(lower) || connectionTokens?.has(lower) || lower === 'x-request-id') continue;
    out.push(name, raw[i + 1]!);
  }
  if (options.upgrade) out.push('connection', 'upgrade', 'upgrade', req.headers.upgrade ?? 'websocket');
  const client = req.socket.remoteAddress ?? '';
  out.push('x-forwarded-for', priorFor ? `${priorFor}, ${client}` : client);
  out.push('x-forwarded-proto', priorProto ?? (isEncrypted(req) ? 'https' : 'http'));
  out.push('x-forwarded-host', priorHost ?? req.headers.host ?? '');
  if (options.extra) out.push(...options.extra);
  return out;
}

/** Response headers for the client, minus hop-by-hop ones. */
export function downstreamResponseHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const connectionTokens = connectionHeaderTokens(headers.connection);
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || connectionTokens?.has(name)) continue;
    out[name] = value;
  }
  return out;
}

function connectionHeaderTokens(value: string | string[] | undefined): Set<string> | undefined {
  if (!value) return undefined;
  const text = Array.isArray(value) ? value.join(',') : value;
  if (text === 'keep-alive' || text === 'close') return undefined;
  return new Set(text.split(',').map((t) => t.trim().toLowerCase()).filter(Boolean));
}

function isEncrypted(req: IncomingMessage): boolean {
  return (req.socket as { encrypted?: boolean }).encrypted === true;
}
