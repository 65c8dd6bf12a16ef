import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Gives `res` its 'close' when its connection closes before the answer was given the
 * connection. Answers to pipelined requests wait in turn behind the one under way;
 * such an answer has no socket yet, and if the connection closes first Node never
 * emits 'close' for it. Everything that lets go of an answer on 'close' (the open
 * answers kept by token, an event subscription and its timer, an engine log stream)
 * held it for the life of the gateway: requests pipelined behind an event stream
 * grew the gateway's memory with every connection that did so. On the proxy, a request
 * held for a cold start kept its wait-queue place until the start ended.
 */
export function closeWithConnection(res: ServerResponse): void {
  if (res.socket) return; // Node's own 'close' comes with the socket's
  const connection = res.req.socket;
  if (connection.destroyed) {
    closeQueued(res);
    return;
  }
  // One listener per connection, however many answers wait on it (a listener each passed Node's leak warning).
  let waiting = queuedOn.get(connection);
  if (!waiting) {
    const answers = new Set<ServerResponse>();
    queuedOn.set(connection, answers);
    connection.once('close', () => {
      for (const answer of answers) closeQueued(answer);
    });
    waiting = answers;
  }
  waiting.add(res);
  res.once('socket', () => waiting.delete(res));
}

const queuedOn = new WeakMap<Socket, Set<ServerResponse>>();

function closeQueued(res: ServerResponse): void {
  if (res.socket) return; // given the connection meanwhile: Node's own 'close' comes
  res.destroy();
  res.emit('close');
}
