import { BerthError, ERROR_CATALOGUE, RuntimeError, isErrorCode, type ErrorCode, type FieldProblem } from '../errors.js';

import type { ProblemBody } from '../api/wire-types.js';
import { DEFAULT_URL } from './settings.js';

/**
 * An error answer of the API. Its catalogue code, and so the CLI's exit code
 * (ERROR_CATALOGUE in src/errors.ts), is the server's or follows the HTTP status.
 */
export class ApiError extends BerthError {
  constructor(
    readonly status: number,
    code: ErrorCode,
    message: string,
    readonly problems: FieldProblem[] = [],
  ) {
    super(code, message);
  }
}

/** The API could not be reached at all (refused, unknown host, timeout). */
export class UnreachableError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('upstream_unavailable', message, options);
  }
}

/**
 * The catalogue code for an error answer. The server's own code is kept when
 * it is one of the catalogue's and agrees with the status class (4xx or 5xx);
 * otherwise the status decides, through the same catalogue the server uses.
 */
export function codeForStatus(status: number, serverCode?: string): ErrorCode {
  const serverSide = status >= 500;
  if (isErrorCode(serverCode) && ERROR_CATALOGUE[serverCode].status >= 500 === serverSide) return serverCode;
  if (serverSide) return 'runtime_error';
  for (const code of Object.keys(ERROR_CATALOGUE) as ErrorCode[]) if (ERROR_CATALOGUE[code].status === status) return code;
  return 'bad_request';
}

/** Builds the error for an answer with status ≥ 400 from its body, whatever the body is. */
export function apiErrorOf(status: number, text: string, tokenHint: string, where?: string): ApiError {
  let problem: ProblemBody | undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object') problem = parsed as ProblemBody;
  } catch {
    // Not JSON: a proxy in front of berth answered, or something else entirely.
  }
  const code = codeForStatus(status, problem?.code);
  if (code === 'unauthorized') {
    return new ApiError(status, code, `the server refused the token (${tokenHint}); check --token, BERTH_TOKEN or run 'berth configure'`);
  }
  if (typeof problem?.detail !== 'string') {
    // Not berth's problem+json: something else answered (a proxy in front, or a wrong URL). Its status says nothing
    // of berth's apps, so it is a server failure (exit 6), never "not found" (3) that a script takes for a missing app.
    return new ApiError(status, 'runtime_error', `HTTP ${status} ${typeof problem?.title === 'string' ? `${printable(problem.title).slice(0, 80)} ` : ''}from ${where ?? 'the server'}, not a berth API answer; check the URL`.replace('  ', ' '));
  }
  if (problem.code === 'no_route') {
    // Only berth's proxy says this: the URL names the proxy listener, a mistake the bare "no app is routed" hides.
    return new ApiError(status, code, `${where ?? 'the server'} is berth's proxy listener, not its admin API (it answered: ${printable(problem.detail)}); point --url or BERTH_URL at the admin listener, the config's admin: (default ${DEFAULT_URL})`);
  }
  const problems = Array.isArray(problem.problems) ? problem.problems.map((p) => ({ path: printable(String(p?.path ?? '')), message: printable(String(p?.message ?? '')) })) : [];
  return new ApiError(status, code, printable(problem.detail), problems);
}

/** The CLI's HTTP client's own failures (client.ts), by the codes read below. */
export const CLIENT_ERROR = {
  connectTimeout: 'BERTH_CONNECT_TIMEOUT',
  headersTimeout: 'BERTH_HEADERS_TIMEOUT',
  bodyTimeout: 'BERTH_BODY_TIMEOUT',
} as const;

/** Error codes of the socket layer that mean "nobody answered there". */
const UNREACHABLE: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'unknown host',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'timed out',
  [CLIENT_ERROR.connectTimeout]: 'connect timed out',
};

/** Error codes of the HTTP client that mean "something answered there, but not in time". */
const TOO_SLOW: Record<string, string> = {
  [CLIENT_ERROR.headersTimeout]: 'no answer',
  [CLIENT_ERROR.bodyTimeout]: 'the answer stopped half way',
};

const UNTRUSTED = 'its certificate is signed by an authority this host does not trust';

/**
 * Certificate checks an https:// URL failed (Node's codes): the server answered, but this
 * host does not trust it. The CLI checks certificates as curl does, and trusts more
 * authorities the Node way, NODE_EXTRA_CA_CERTS.
 */
const UNTRUSTED_CERTIFICATE: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'its certificate is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: UNTRUSTED,
  UNABLE_TO_GET_ISSUER_CERT: UNTRUSTED,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: UNTRUSTED,
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: UNTRUSTED,
  CERT_HAS_EXPIRED: 'its certificate has expired',
  CERT_NOT_YET_VALID: 'its certificate is not valid yet',
  ERR_TLS_CERT_ALTNAME_INVALID: 'its certificate is for another name',
};

/**
 * OpenSSL's reason for a failed handshake ("wrong version number"), from Node's code
 * (ERR_SSL_WRONG_VERSION_NUMBER) or, as its https client reports it, from an EPROTO's
 * message ("…:SSL routines:ssl3_get_record:wrong version number:…").
 */
function tlsFailure(err: unknown, code: string | undefined): string | undefined {
  if (code?.startsWith('ERR_SSL_')) return code.slice('ERR_SSL_'.length).toLowerCase().replace(/_/g, ' ');
  if (code !== 'EPROTO' || !(err instanceof Error)) return undefined;
  return /SSL routines:[^:]*:([^:]+):/.exec(err.message)?.[1]?.trim();
}

/** Turns a transport failure into one clear line; other errors pass through. */
export function transportError(err: unknown, url: string): unknown {
  const why = unreachableReason(err);
  if (why) return new UnreachableError(`cannot reach the berth API at ${url}: ${why}; is the gateway running? (set --url, BERTH_URL or run 'berth configure')`, { cause: err });
  const code = (err as { code?: string } | undefined)?.code;
  // These came out as OpenSSL's own words ("self-signed certificate", "…:ssl3_get_record:wrong version number:…") and exit 1.
  if (code && UNTRUSTED_CERTIFICATE[code]) {
    return new UnreachableError(`the berth API at ${url} is not trusted: ${UNTRUSTED_CERTIFICATE[code]} (${code}); give its authority's certificate in NODE_EXTRA_CA_CERTS=ca.pem`, { cause: err });
  }
  const tls = tlsFailure(err, code);
  if (tls) return new UnreachableError(`${url} did not complete a TLS handshake (${tls}); if it is a plain HTTP listener, use http://`, { cause: err });
  if (code && TOO_SLOW[code]) return new UnreachableError(`the berth API at ${url} is too slow: ${TOO_SLOW[code]} in time; is the gateway overloaded, or is something else listening there?`, { cause: err });
  // Not HTTP at all (an SSH or database port, TLS spoken to plain HTTP…).
  // Node's HTTP parser's codes (HPE_INVALID_CONSTANT…).
  if (code?.startsWith('HPE_')) return new UnreachableError(`${url} did not answer in HTTP; is it berth's admin listener (default ${DEFAULT_URL})?`, { cause: err });
  return err;
}

/**
 * A TypeError out of a command that read the API ("app.instances.filter is not a function"):
 * its JSON had not the shape this CLI reads, as a gateway of another version answers, or
 * another JSON service at the URL. The client checks that an answer is a JSON object; the
 * fields are read where they are shown. Said as such, a server failure (exit 6), not in
 * JavaScript's words with the generic exit 1. Other errors pass through.
 */
export function unreadableAnswer(err: unknown): unknown {
  if (!(err instanceof TypeError)) return err;
  return new RuntimeError(`the API's answer is not what this berth CLI reads (${printable(err.message)}); is --url a berth admin API, of this CLI's version (berth version)?`, { cause: err });
}

/** Most characters of a server's words the CLI prints. */
const MAX_SERVER_TEXT = 500;

/**
 * A server's words (a problem's detail, a field path) as one printable line:
 * control characters (terminal escapes, newlines), bidirectional overrides, zero-width
 * and other invisible format characters and lone surrogate halves, which could rewrite
 * or hide what the terminal shows, become spaces; long text is cut.
 */
export function printable(text: string): string {
  const flat = text.replace(/[\p{Cc}\p{Cf}\p{Cs}\u2028\u2029]+/gu, ' ').replace(/ {2,}/g, ' ').trim();
  // Cut between characters: a cut between the halves of an emoji printed a lone half, shown as U+FFFD.
  const chars = [...flat];
  return chars.length > MAX_SERVER_TEXT ? `${chars.slice(0, MAX_SERVER_TEXT).join('')}… (${chars.length - MAX_SERVER_TEXT} more characters)` : flat;
}

/** "connection refused", "connection closed"…: the socket-level reason anywhere in the error's causes. */
function unreachableReason(err: unknown): string | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const code = (e as { code?: string }).code;
    const why = code ? UNREACHABLE[code] : undefined;
    if (why) return why;
  }
  return undefined;
}

/**
 * A streamed answer (logs -f) that broke off after it began: the gateway stopped
 * or the connection dropped. The HTTP client's own words ("other side closed")
 * named neither the stream nor the server.
 */
export function brokenStreamError(err: unknown, url: string): unknown {
  const why = unreachableReason(err);
  return why ? new UnreachableError(`the stream from the berth API at ${url} broke off: ${why}; did the gateway stop?`, { cause: err }) : err;
}

/**
 * The API names a bad query parameter (`query parameter since: …`); where the CLI filled
 * it from a flag of the same name, the user typed `--since`, so the line names the flag.
 */
export function asFlagError(err: unknown, flags: readonly string[]): unknown {
  if (!(err instanceof ApiError) || err.status !== 400) return err;
  const match = /^query parameter ([a-z]+): /.exec(err.message);
  if (!match || !flags.includes(match[1]!)) return err;
  return new ApiError(err.status, err.code, `--${match[1]}: ${err.message.slice(match[0].length)}`, err.problems);
}
