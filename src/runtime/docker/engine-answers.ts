import type Docker from 'dockerode';

/** The code of the error a call fails with when the engine's answer is not what the Engine API sends. */
export const ENGINE_GARBLED_CODE = 'ENGINE_GARBLED';

interface DialOptions {
  path?: string;
  method?: string;
  isStream?: boolean;
  hijack?: boolean;
}
type DialCallback = (err: unknown, data?: unknown) => void;
type Dial = (options: DialOptions, callback: DialCallback) => void;

/** Calls answered with one JSON document, by method and path (the query is not looked at). */
const DOCUMENT_CALLS: ReadonlyArray<[method: string, path: RegExp]> = [
  ['GET', /^\/(containers|images)\/[^?]+\/json$/],
  ['GET', /^\/(info|version|swarm)$/],
  ['GET', /^\/(networks|volumes)\/[^/?]+$/],
  ['POST', /^\/(containers|volumes|networks)\/create$/],
  // The Swarm runtime's (the same client): a service, task or node inspect, a service create.
  ['GET', /^\/(services|tasks|nodes)\/[^/?]+$/],
  ['POST', /^\/services\/create$/],
];
/** Calls answered with a JSON list. */
const LIST_CALLS: ReadonlyArray<[method: string, path: RegExp]> = [
  ['GET', /^\/(containers|networks|images)\/json$/],
  ['GET', /^\/(services|tasks|nodes)$/],
];
/** A container's inspect document: what toInstance reads without a guard. */
const CONTAINER_INSPECT = /^\/containers\/[^/?]+\/json$/;

/**
 * Why an engine's successful answer to a plain call cannot be its answer, or undefined
 * when it can. docker-modem hands a body that does not parse as JSON to the caller as
 * a Buffer, and callers read fields of it: an HTML page from a proxy in front of the
 * engine, or a body cut short, made list() map over the page's bytes, and the
 * inspect calls it started for each byte rejected with nobody listening, which ends
 * the process. Pure.
 */
export function garbledAnswer(options: DialOptions, data: unknown): string | undefined {
  if (options.isStream || options.hijack || !options.path) return undefined;
  const method = (options.method ?? 'GET').toUpperCase();
  const path = options.path.replace(/\?.*$/, '');
  const matches = (calls: ReadonlyArray<[string, RegExp]>) => calls.some(([m, p]) => m === method && p.test(path));
  const list = matches(LIST_CALLS);
  if (!list && !matches(DOCUMENT_CALLS)) return undefined;
  if (Buffer.isBuffer(data)) return `a body that is not JSON (${quoteStart(data)})`;
  if (list) return Array.isArray(data) && data.every(isObject) ? undefined : 'JSON that is not a list of objects';
  if (!isObject(data)) return 'JSON that is not an object';
  if (CONTAINER_INSPECT.test(path) && !(isObject(data['State']) && isObject(data['Config']))) return 'JSON without a container’s State and Config';
  return undefined;
}

/**
 * Fails every plain call whose successful answer is garbled (see garbledAnswer) with
 * an error coded ENGINE_GARBLED, which mapDockerError turns into engine_unavailable:
 * the engine's trouble (or the trouble of what stands in front of it), not the app's.
 * Like boundEngineCalls, it wraps docker-modem's one entry point so no call is forgotten.
 */
export function refuseGarbledAnswers(docker: Docker): Docker {
  const modem = docker.modem as unknown as { dial: Dial };
  const dial = modem.dial.bind(modem);
  modem.dial = (options, callback) => {
    dial(options, (err, data) => {
      const garbled = err ? undefined : garbledAnswer(options, data);
      if (garbled === undefined) return callback(err, data);
      const call = `${(options.method ?? 'GET').toUpperCase()} ${options.path?.replace(/\?.*$/, '')}`;
      callback(Object.assign(new Error(`answered ${call} with ${garbled}`), { code: ENGINE_GARBLED_CODE }));
    });
  };
  return docker;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

/** The start of a body, for a message: printable, short. */
function quoteStart(body: Buffer): string {
  if (body.length === 0) return 'empty';
  const text = body.toString('latin1', 0, 60).replace(/[^\x20-\x7e]+/g, ' ').trim();
  return `"${text}${body.length > 60 ? '…' : ''}"`;
}
