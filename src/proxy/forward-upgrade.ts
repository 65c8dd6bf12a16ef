import { connect, type Socket } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * Relays an HTTP/1.1 Upgrade (WebSocket) to the upstream over a fresh TCP
 * connection: the handshake is written as-is (minus what the proxy rewrites),
 * then bytes are piped both ways untouched. The upstream's own answer (101 or
 * a refusal) goes back verbatim, so berth never has to speak WebSocket.
 *
 * `onOpen` fires once the upstream connection is established; `onError` when it
 * could not be (the client socket is then left to the caller to answer);
 * `onClose` exactly once at the end, whatever happened, so activity accounting
 * stays exact.
 */
export function forwardUpgrade(
  req: IncomingMessage,
  client: Duplex,
  head: Buffer,
  target: { host: string; port: number; path: string; headers: string[] },
  onOpen: () => void,
  onError: (err: Error) => void,
  onClose: () => void,
): void {
  const upstream: Socket = connect({ host: target.host, port: target.port });
  let opened = false;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    client.destroy();
    upstream.destroy();
    onClose();
  };
  upstream.setNoDelay(true);
  upstream.once('connect', () => {
    opened = true;
    onOpen();
    upstream.write(handshake(req, target.path, target.headers));
    if (head.length > 0) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  upstream.on('error', (err) => {
    if (opened || closed) return close();
    // Not connected: the client still waits for an HTTP answer, which onError writes.
    closed = true;
    upstream.destroy();
    onError(err);
    onClose();
  });
  upstream.on('close', close);
  client.on('error', close);
  client.on('close', close);
}

function handshake(req: IncomingMessage, path: string, headers: string[]): string {
  let text = `${req.method ?? 'GET'} ${path} HTTP/1.1\r\n`;
  for (let i = 0; i < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return text + '\r\n';
}
