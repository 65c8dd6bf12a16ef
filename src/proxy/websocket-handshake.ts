import type { IncomingHttpHeaders } from 'node:http';

/** What the head of an upgrade request needs to be judged. */
export interface HandshakeHead {
  method?: string;
  httpVersion: string;
  headers: IncomingHttpHeaders;
}

/**
 * Whether an upgrade request asks for WebSocket: `Upgrade` carries the
 * `websocket` token (case-insensitive) and `Connection` the `upgrade` token.
 * Any other upgrade (h2c, TLS/1.0, …) is never tunnelled: the proxy serves it
 * as plain HTTP instead.
 */
export function isWebSocketUpgrade(headers: IncomingHttpHeaders): boolean {
  return tokensOf(headers.upgrade).includes('websocket') && tokensOf(headers.connection).includes('upgrade');
}

/**
 * base64 of 16 bytes (RFC 6455 §4.1): 22 characters and `==`. The last
 * character's unused bits are not checked: such a key still decodes to 16 bytes.
 */
const KEY = /^[A-Za-z0-9+/]{22}==$/;

/**
 * Why a WebSocket opening handshake (RFC 6455 §4.2.1) is malformed, or
 * undefined when it is well formed. Checked before the app is woken, so a
 * broken client cannot start a stopped app.
 */
export function handshakeProblem(head: HandshakeHead): string | undefined {
  const { headers } = head;
  if (head.method !== 'GET') return `a WebSocket handshake must be a GET, not ${head.method ?? 'no method'}`;
  if (head.httpVersion !== '1.1') return `a WebSocket handshake must be HTTP/1.1, not HTTP/${head.httpVersion}`;
  const upgrade = tokensOf(headers.upgrade);
  if (upgrade.length !== 1) return 'Upgrade must name websocket alone';
  const key = headers['sec-websocket-key'];
  if (key === undefined) return 'Sec-WebSocket-Key is missing';
  if (!KEY.test(key.trim())) return 'Sec-WebSocket-Key must be one base64-encoded 16-byte value';
  const version = headers['sec-websocket-version'];
  if (version?.trim() !== '13') return `Sec-WebSocket-Version must be 13${version === undefined ? ' (it is missing)' : ''}`;
  if (headers['transfer-encoding'] !== undefined) return 'a WebSocket handshake has no body (Transfer-Encoding is set)';
  const length = headers['content-length'];
  if (length !== undefined && length.trim() !== '0') return 'a WebSocket handshake has no body (Content-Length is set)';
  return undefined;
}

/** The lower-case tokens of a comma-separated header, e.g. `Connection: keep-alive, Upgrade`. */
export function tokensOf(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  const text = Array.isArray(value) ? value.join(',') : value;
  return text
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t !== '');
}
