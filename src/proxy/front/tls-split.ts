import type { Http2SecureServer } from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { FrontFallback } from './http1-front.js';

/**
 * Gives a TLS listener's HTTP/1.1 connections to berth's front. Node's HTTP/2
 * secure server answers each handshake with the one 'secureConnection' listener
 * it registered when it was made: an HTTP/2 session by ALPN, or (`allowHTTP1`,
 * ALPN `http/1.1` or none) Node's HTTP/1.1 server code on the socket. That
 * listener is taken off and this one put in its place: HTTP/1.1 sockets go to
 * `accept`, HTTP/2 ones to Node's listener as before. The answer is the
 * front's fallback: Node's listener again, which serves a handed-off socket as
 * HTTP/1.1 (its unread bytes put back in front), and the server's own
 * 'request' and 'upgrade' events.
 *
 * Call it on a fresh server, before any other 'secureConnection' listener.
 */
export function splitSecureConnections(server: Http2SecureServer, accept: (socket: Socket) => void): FrontFallback {
  const listeners = server.listeners('secureConnection') as Array<(socket: TLSSocket) => void>;
  if (listeners.length !== 1) throw new Error(`the TLS server has ${listeners.length} 'secureConnection' listeners, not just Node's own`);
  const node = listeners[0]!;
  server.removeListener('secureConnection', node);
  server.on('secureConnection', (socket: TLSSocket) => {
    if (socket.alpnProtocol !== false && socket.alpnProtocol !== 'http/1.1') return node.call(server, socket);
    // Node's TLS sockets end their side at the client's FIN; the front answers what was asked first.
    socket.allowHalfOpen = true;
    accept(socket);
  });
  return {
    take: (socket) => node.call(server, socket as TLSSocket),
    on: (event, listener) => server.on(event, listener),
  };
}
