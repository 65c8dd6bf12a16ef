import { WebSocket } from 'ws';
import { waitFor } from './wait-for.js';

/** A WebSocket that opened, and the close code it ends with (1006 for a connection cut under it). */
export interface OpenedSocket {
  socket: WebSocket;
  closed: Promise<number>;
}

/** Opens a WebSocket to `url` (waking its app may take a while); rejects if it closes before it opens. */
export async function openWebSocket(url: string, timeoutMs = 15_000): Promise<OpenedSocket> {
  const socket = new WebSocket(url);
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  // A failed handshake is seen as the close above; without a listener the error would throw.
  socket.on('error', () => undefined);
  await waitFor(`a WebSocket to ${url} to open`, () => socket.readyState === WebSocket.OPEN || (socket.readyState === WebSocket.CLOSED ? Promise.reject(new Error(`${url} closed before it opened`)) : false), { timeoutMs, intervalMs: 10 });
  return { socket, closed };
}
