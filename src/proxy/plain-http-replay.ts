import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { tokensOf } from './websocket-handshake.js';

/**
 * Serves a non-WebSocket upgrade request (h2c, TLS/1.0, …) as the plain HTTP
 * request it also is, as RFC 9110 §7.8 lets a server do by ignoring Upgrade.
 *
 * Node's HTTP server detaches every request with `Upgrade` and `Connection:
 * upgrade` from its parser and hands it to the 'upgrade' listener, with the
 * bytes read past the head (the body, or a pipelined request) in `head`; it
 * offers no way to decline. So the request head is written again without the
 * upgrade (no `Upgrade`, no `HTTP2-Settings`, no `upgrade` token in
 * `Connection`), put back in front of the socket's unread bytes together with
 * `head`, and the socket is handed to `take`, the HTTP/1.1 server code of the
 * listener it came in on (plain, or TLS), as a new connection: a fresh parser
 * reads the request, its body and whatever follows on a kept-alive connection,
 * and the normal request path serves it.
 */
export function replayAsPlainHttp(take: (socket: Socket) => void, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  socket.unshift(Buffer.concat([plainRequestHead(req), head]));
  take(socket as Socket);
}

/** The request line and headers of `req` with the upgrade taken out. */
export function plainRequestHead(req: Pick<IncomingMessage, 'method' | 'url' | 'httpVersion' | 'rawHeaders'>): Buffer {
  let text = `${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/${req.httpVersion}\r\n`;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (lower === 'upgrade' || lower === 'http2-settings') continue;
    let value = raw[i + 1]!;
    if (lower === 'connection') {
      const kept = tokensOf(value).filter((t) => t !== 'upgrade' && t !== 'http2-settings');
      if (kept.length === 0) continue;
      value = kept.join(', ');
    }
    text += `${name}: ${value}\r\n`;
  }
  // latin1: the parser decoded header bytes as latin1, so this writes the very bytes it read.
  return Buffer.from(text + '\r\n', 'latin1');
}
