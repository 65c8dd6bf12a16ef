import { Agent as HttpAgent, type ClientRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { inspect } from 'node:util';

/**
 * The connection pool of the engine client, kept alive as Node's global one is.
 *
 * docker-modem reads a plain call's answer until its 'end' and listens for errors on
 * the request only. When the connection breaks in the middle of an answer (dockerd
 * restarted, a proxy in front of it cut it), Node ends neither the answer nor the
 * request with an error, so the call waited out the whole engine timeout (30 s by
 * default, the engine being alive again for the ping that could cut it short) to be
 * told the engine "did not answer". Here every request of the pool whose answer
 * closes before it is complete fails with ECONNRESET at once. For a stream its
 * consumer ended, the modem has already handed the answer on and ignores this.
 */
export function engineAgent(tls: boolean): HttpAgent {
  const agent = tls ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  const pool = agent as unknown as { addRequest(req: ClientRequest, options: unknown): void };
  const addRequest = pool.addRequest.bind(agent);
  pool.addRequest = (req, options) => {
    req.once('response', (res: IncomingMessage) => {
      res.once('close', () => {
        // The request is already closed with its socket: destroy() would emit nothing, so the error is emitted.
        if (!res.complete && req.listenerCount('error') > 0) req.emit('error', answerCutError());
      });
    });
    addRequest(req, options);
  };
  shownBriefly(agent, 'engine agent');
  return agent;
}

/**
 * Makes `util.inspect` show `value` as `[what]`. docker-modem formats every call's request
 * options for its debug log whether or not that log is on (`util.inspect(options, {showHidden:
 * true, depth: null})`), and those hold the pool (every open socket to the engine, the event
 * stream's among them, with all their state) and the call's abort signal: about 80,000
 * characters, several milliseconds of the event loop per Engine API call, each time the
 * gateway polls or inspects a container, under load too.
 */
export function shownBriefly(value: object, what: string): void {
  Object.defineProperty(value, inspect.custom, { value: () => `[${what}]`, enumerable: false, configurable: true });
}

function answerCutError(): Error & { code: string } {
  return Object.assign(new Error('the engine closed the connection in the middle of its answer'), { code: 'ECONNRESET' });
}
