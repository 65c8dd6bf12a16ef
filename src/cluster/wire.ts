import type { IncomingMessage } from 'node:http';
import { BerthError, isErrorCode } from '../errors.js';
import type { Admission, Upstream } from '../proxy/upstream.js';
import type { RequestRecord } from '../store/store.js';
import type { RequestFacts, UpstreamAddress, WakeAnswer, WireError, WireRecord } from './state-feed.js';

/**
 * The headers the activator's decisions read: the waiting page (accept,
 * sec-fetch-*, x-requested-with), sticky sessions (cookie) and upgrades. The
 * rest stay in the worker, which forwards the request itself.
 */
const FACT_HEADERS = ['accept', 'cookie', 'sec-fetch-mode', 'sec-fetch-dest', 'sec-fetch-site', 'sec-fetch-user', 'x-requested-with', 'upgrade', 'connection', 'user-agent'] as const;

/** What a wake request carries of `req`. Pure. */
export function factsOf(req: Pick<IncomingMessage, 'method' | 'url' | 'headers'>, upgrade: boolean): RequestFacts {
  const headers: Record<string, string> = {};
  for (const name of FACT_HEADERS) {
    const value = req.headers[name];
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return { method: req.method ?? 'GET', url: req.url ?? '/', headers, upgrade };
}

/** The request the control's activator is asked about: enough of an IncomingMessage for its decisions. */
export function requestOf(facts: RequestFacts): IncomingMessage {
  return { method: facts.method, url: facts.url, headers: facts.headers } as unknown as IncomingMessage;
}

export function wireError(err: unknown): WireError {
  if (err instanceof BerthError) return { message: err.message, code: err.code, berth: true, retryAfterS: err.retryAfterS, ...(err.publicMessage === undefined ? {} : { publicMessage: err.publicMessage }) };
  const code = (err as { code?: unknown } | undefined)?.code;
  return { message: err instanceof Error ? err.message : String(err), code: typeof code === 'string' ? code : undefined, berth: false };
}

/** The error again, typed as the proxy's failure mapping expects (a BerthError keeps its status and Retry-After). */
export function errorOf(wire: WireError): Error {
  // The public form comes along: without it a worker's client would get a bare text by code (never the full one).
  if (wire.berth && isErrorCode(wire.code)) return new BerthError(wire.code, wire.message, { retryAfterS: wire.retryAfterS, publicMessage: wire.publicMessage });
  return Object.assign(new Error(wire.message), wire.code === undefined ? {} : { code: wire.code });
}

export function addressOf(upstream: Upstream): UpstreamAddress {
  return { id: upstream.instanceId, name: upstream.instanceName, host: upstream.host, port: upstream.port };
}

/**
 * The control's answer to a wake, from its activator's admission: a hold is
 * waited out here, so the worker gets a final answer in one message.
 * `onHold` gets a hold's `leave`, for when the worker's client goes first.
 */
export async function wakeAnswerOf(admission: Admission, onHold?: (leave: () => void) => void): Promise<WakeAnswer> {
  try {
    switch (admission.kind) {
      case 'ready':
        return readyAnswer(admission.upstream, admission.setCookie);
      case 'page':
        return { kind: 'page', title: admission.title, message: admission.message };
      case 'fail':
        return { kind: 'fail', error: wireError(admission.error) };
      case 'wait': {
        if (admission.leave !== undefined) onHold?.(admission.leave);
        const chosen = await admission.ready;
        return readyAnswer(chosen.upstream, chosen.setCookie);
      }
      case 'later':
        return wakeAnswerOf(await admission.admission, onHold);
    }
  } catch (err) {
    return { kind: 'fail', error: wireError(err) };
  }
}

function readyAnswer(upstream: Upstream, setCookie: string | undefined): WakeAnswer {
  return setCookie === undefined ? { kind: 'ready', upstream: addressOf(upstream) } : { kind: 'ready', upstream: addressOf(upstream), setCookie };
}

export function wireRecord(r: RequestRecord): WireRecord {
  return [r.timeMs, r.app, r.method, r.path, r.status, r.durationMs, r.bytesIn, r.bytesOut, r.client, r.waited ? 1 : 0, r.instance ?? null, r.requestId ?? null];
}

export function recordOf(w: WireRecord): RequestRecord {
  const record: RequestRecord = { timeMs: w[0], app: w[1], method: w[2], path: w[3], status: w[4], durationMs: w[5], bytesIn: w[6], bytesOut: w[7], client: w[8], waited: w[9] === 1 };
  if (w[10] !== null) record.instance = w[10];
  if (w[11] !== null) record.requestId = w[11];
  return record;
}
