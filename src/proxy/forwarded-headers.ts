import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { lowerHeaderName } from './header-name.js';

/**
 * Hop-by-hop headers (RFC 9110 §7.6.1) describe one connection, not the message,
 * so a proxy must not pass them on. `expect` is answered by berth's own server
 * (Node sends the 100 Continue).
 */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
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
  // Connection-specific (RFC 7540 §3.2.1): HTTP/2 refuses to carry it, and an app's answer with it failed there.
  'http2-settings',
]);

/** Identity headers berth sets itself; from an untrusted peer every `x-forwarded-*` goes too. */
const IDENTITY = new Set(['forwarded', 'x-real-ip']);

/**
 * Other names CDNs and proxies give the client's address, the original URL or
 * the scheme, which app frameworks trust (Rails/Rack `Client-IP`, Symfony/IIS
 * `X-Original-URL` overriding the routed path, `Front-End-Https: on` or
 * `X-Url-Scheme: https` read as an HTTPS request, so secure cookies and
 * redirects follow a client's word...). berth sets none of them, so from an
 * untrusted peer they are dropped; a trusted proxy's are passed on.
 * (`X-Forwarded-Ssl` and `X-Forwarded-Scheme` go with every `x-forwarded-*`.)
 */
const OTHER_IDENTITY = new Set([
  'client-ip',
  'true-client-ip',
  'x-client-ip',
  'x-cluster-client-ip',
  'cf-connecting-ip',
  'fastly-client-ip',
  'x-originating-ip',
  'x-remote-ip',
  'x-remote-addr',
  'x-original-url',
  'x-rewrite-url',
  'x-original-host',
  'x-host',
  // The scheme: Microsoft's (OWA, IIS-era code), Rack's and PHP's, Tornado's, IIS ARR's.
  'front-end-https',
  'x-url-scheme',
  'x-scheme',
  'x-arr-ssl',
]);

/** What upstreamRequestHeaders reads of a request: Node's IncomingMessage, or the front's plain head. */
export interface ForwardedRequest {
  readonly rawHeaders: readonly string[];
  readonly headers: { readonly connection?: string; readonly host?: string; readonly upgrade?: string };
  /** The client socket (read for TLS unless `encrypted` is given); the front's heads have none. */
  readonly socket?: unknown;
}

export interface ForwardOptions {
  /** The peer is a proxy we trust: extend its identity headers instead of replacing them. */
  trustedPeer: boolean;
  /** The request's id, sent as `x-request-id` (a field, not a list of extra headers: no array per request). */
  requestId?: string;
  /** Keep `connection: upgrade` and `upgrade`, for WebSocket handshakes. */
  upgrade?: boolean;
  /** The client's address, read once when the request arrived; default: the socket's, now. */
  client?: string;
  /** The Host to send (the normalised authority the request was routed by); default: the client's own. */
  host?: string;
  /** The client's connection is TLS (proto `https`); default: read from `req.socket`. */
  encrypted?: boolean;
  /** The path prefix the route stripped (`/session/a`), sent as X-Forwarded-Prefix. */
  prefix?: string | undefined;
}

/**
 * The request headers to send upstream as a flat [name, value, ...] list:
 *
 * - hop-by-hop headers, and any the Connection header names, are dropped;
 * - a header whose name is not letters, digits and `-` is dropped (nginx's
 *   `ignore_invalid_headers`, Envoy's `headers_with_underscores_action`):
 *   CGI, WSGI, PHP and Apache turn every other character into `_`, so
 *   `X_Forwarded_For` or `X.Forwarded.For` would reach the app as the
 *   trusted `HTTP_X_FORWARDED_FOR`;
 * - from an untrusted peer, `Forwarded`, `X-Real-IP` and every `X-Forwarded-*`
 *   are dropped and replaced by berth's own X-Forwarded-For/Proto/Host,
 *   X-Real-IP and `Forwarded: for=…;proto=…;host=…` (RFC 7239); from a trusted
 *   proxy, X-Forwarded-For and Forwarded are appended to and the others kept;
 * - from an untrusted peer, the other client-address and original-URL headers
 *   frameworks honour (OTHER_IDENTITY) are dropped too;
 * - Host is `options.host` when given (the authority berth routed by);
 * - X-Forwarded-Prefix is `options.prefix`, the prefix the route stripped (after a
 *   trusted proxy's own prefix, which a proxy in front that mounts berth under a path
 *   sends); without one, a trusted proxy's is kept as it is;
 * - the client's X-Request-Id is dropped: the proxy sends the request's id in
 *   `requestId` (the client's own when it is sane, see request-id.ts).
 *
 * The hot path: one lower-casing and Set lookups per header, no regex.
 */
export function upstreamRequestHeaders(req: ForwardedRequest, options: ForwardOptions): string[] {
  const raw = req.rawHeaders;
  const connectionTokens = connectionHeaderTokens(req.headers.connection);
  const trusted = options.trustedPeer;
  const host = options.host ?? req.headers.host ?? '';
  // No Host at all (HTTP/1.0): none is invented here; the upstream client sends the upstream's own.
  const out: string[] = options.host ? ['host', host] : [];
  let priorFor: string | undefined;
  let priorForwarded: string | undefined;
  let priorProto: string | undefined;
  let priorHost: string | undefined;
  let priorRealIp: string | undefined;
  let priorPrefix: string | undefined;
  const prefix = options.prefix;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (!isPlainHeaderName(name)) continue;
    const lower = lowerHeaderName(name);
    if (IDENTITY.has(lower) || lower.startsWith('x-forwarded-')) {
      if (!trusted) continue;
      const value = raw[i + 1]!;
      if (lower === 'x-forwarded-for') priorFor = priorFor ? `${priorFor}, ${value}` : value;
      else if (lower === 'forwarded') priorForwarded = priorForwarded ? `${priorForwarded}, ${value}` : value;
      else if (lower === 'x-forwarded-proto') priorProto ??= value;
      else if (lower === 'x-forwarded-host') priorHost ??= value;
      else if (lower === 'x-real-ip') priorRealIp ??= value;
      else if (lower === 'x-forwarded-prefix' && prefix !== undefined) priorPrefix ??= value;
      else out.push(name, value); // X-Forwarded-Port, -Prefix, ... of a trusted proxy: kept as they are
      continue;
    }
    if (HOP_BY_HOP.has(lower) || connectionTokens?.has(lower) || lower === 'x-request-id') continue;
    if (!trusted && OTHER_IDENTITY.has(lower)) continue;
    if (options.host !== undefined && lower === 'host') continue;
    out.push(name, raw[i + 1]!);
  }
  if (options.upgrade) out.push('connection', 'upgrade', 'upgrade', req.headers.upgrade ?? 'websocket');
  const client = options.client ?? clientAddressOf(req as IncomingMessage);
  const proto = (options.encrypted ?? isEncrypted(req)) ? 'https' : 'http';
  out.push('x-forwarded-for', priorFor ? `${priorFor}, ${client}` : client);
  out.push('x-forwarded-proto', priorProto ?? proto);
  // An HTTP/1.0 request may have no Host: then no empty X-Forwarded-Host either (apps would build URLs from it).
  const forwardedHost = priorHost ?? host;
  if (forwardedHost !== '') out.push('x-forwarded-host', forwardedHost);
  out.push('x-real-ip', priorRealIp ?? client);
  if (prefix !== undefined) out.push('x-forwarded-prefix', priorPrefix ? trimTrailingSlashes(priorPrefix) + prefix : prefix);
  const element = ownElement(client, proto, host);
  out.push('forwarded', priorForwarded ? `${priorForwarded}, ${element}` : element);
  if (options.requestId !== undefined) out.push('x-request-id', options.requestId);
  return out;
}

function trimTrailingSlashes(path: string): string {
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 47 /* / */) end--;
  return path.slice(0, end);
}

/**
 * The last hop element built, and what it was built of. A kept-alive connection's requests
 * (same client, same listener, mostly the same host) ask for the same one again and again:
 * a compare of three strings instead of a template, a token check and the flattening of
 * the result when the head is written, per request.
 */
const lastElement = { client: '', proto: '', host: '', element: '' };

function ownElement(client: string, proto: string, host: string): string {
  const last = lastElement;
  if (last.element !== '' && last.client === client && last.proto === proto && last.host === host) return last.element;
  const element = forwardedElement(client, proto, host);
  last.client = client;
  last.proto = proto;
  last.host = host;
  last.element = element;
  return element;
}

/**
 * One RFC 7239 element for this hop. An IPv6 node is `"[…]"` (§6); a value
 * that is not a token (a host with a port, an IPv6 literal) is quoted (§4).
 */
export function forwardedElement(client: string, proto: string, host: string): string {
  const node = client === '' ? 'unknown' : client.includes(':') ? `"[${client}]"` : client;
  let element = `for=${node};proto=${proto}`;
  if (host !== '') element += `;host=${isToken(host) ? host : `"${host.replace(/["\\]/g, '\\$&')}"`}`;
  return element;
}

/**
 * The peer's address as berth reports and checks it: an IPv4 client of a
 * dual-stack listener shows as `::ffff:1.2.3.4`, which is given as `1.2.3.4`
 * so that `trustedProxies` and X-Forwarded-For mean the same address either way.
 * Read it once per request: the socket can be gone when the exchange ends.
 */
export function clientAddressOf(req: IncomingMessage): string {
  return unmappedAddress(req.socket?.remoteAddress ?? '');
}

/** A socket's peer address as berth reports it: `::ffff:1.2.3.4` (IPv4 on a dual-stack listener) as `1.2.3.4`. */
export function unmappedAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/**
 * An IP address in the form a socket reports its peer in (`unmappedAddress`), so that a
 * configured address equals the peer's however it was written: IPv6 in lower case with its
 * longest run of zeros compressed (RFC 5952, as the system's inet_ntop writes it), an
 * IPv4-mapped one as IPv4. Undefined for anything that is no single address (a range, a
 * name, a port, a zone): no peer address would ever equal it.
 */
export function canonicalAddress(address: string): string | undefined {
  const family = isIP(address);
  if (family === 4) return address;
  if (family !== 6 || address.includes('%')) return undefined;
  // The URL parser writes an IPv6 host in RFC 5952's form (an IPv4 tail as two hex groups).
  const canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (mapped === null) return canonical;
  const high = parseInt(mapped[1]!, 16);
  const low = parseInt(mapped[2]!, 16);
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

/** Letters, digits and `-` only: a name no framework folds into another one. */
export function isPlainHeaderName(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 128 || PLAIN_NAME[c] === 0) return false;
  }
  return name.length > 0;
}

function isToken(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 128 || TOKEN[c] === 0) return false;
  }
  return true;
}

const PLAIN_NAME = new Uint8Array(128);
const TOKEN = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9-]/.test(ch)) PLAIN_NAME[c] = 1;
  if (/[A-Za-z0-9!#$%&'*+.^_`|~-]/.test(ch)) TOKEN[c] = 1;
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

function isEncrypted(req: ForwardedRequest): boolean {
  return (req.socket as { encrypted?: boolean } | null)?.encrypted === true;
}
