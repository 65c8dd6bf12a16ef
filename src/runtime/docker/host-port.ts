import { connect } from 'node:net';

/** How long the look at a host port before a start may take: a refused connect answers at once. */
const LOOK_MS = 500;

/**
 * Whether something already accepts connections at `host:port`. Asked before a
 * container on the host network starts: then nothing of the app runs yet, so an
 * answer there is another process's, and berth's readiness probe would take it
 * for the app's (and route requests to it). Without an answer in time: no.
 */
export function hostPortAnswers(host: string, port: number, timeoutMs = LOOK_MS): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (answered: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answered);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
