import type { Socket } from 'node:net';
import type { ServerResponse } from 'node:http';

/**
 * Ends an endless answer (an event stream, a log follow) as soon as its client sends
 * EOF. The admin server keeps half-closed connections answering (src/net/half-open.ts):
 * a client may shut its side after a request and still read a finite answer. An answer
 * that never ends has no such reader, so EOF there is a client that left. Waiting for a
 * write to fail instead held the socket (and an event subscription) until the next
 * heartbeat failed, and a quiet app's log follow, which never writes, held its socket
 * and its engine log stream for good. nginx and Go's net/http take EOF the same way.
 *
 * An answer queued behind another on the same connection (pipelined requests) is
 * watched from when it is given the connection; until then net/queued-answer.ts ends it if
 * the connection closes.
 */
export function endWhenClientLeaves(res: ServerResponse): void {
  if (res.socket) {
    endOnEof(res, res.socket);
    return;
  }
  res.once('socket', (socket: Socket) => endOnEof(res, socket));
}

function endOnEof(res: ServerResponse, socket: Socket): void {
  if (socket.readableEnded) {
    res.destroy();
    return;
  }
  const gone = () => res.destroy();
  socket.once('end', gone);
  res.once('close', () => socket.off('end', gone));
}
