import type { ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import { BerthError, ERROR_CATALOGUE, codeOf, httpStatusOf, messageOf, PolicyError, SpecError, type ErrorCode, type FieldProblem } from '../errors.js';

/**
 * One error answer, whatever listener or socket it leaves by. `status` is the
 * catalogue's for `code` (callers take it from there); `app` and `problems` are
 * extras the body carries when known.
 */
export interface Problem {
  status: number;
  code: ErrorCode;
  detail: string;
  retryAfterS?: number;
  app?: string;
  problems?: FieldProblem[];
}

/** The problem for any thrown value: a BerthError keeps its code, anything else is an internal error whose details stay in the log. */
export function problemOf(err: unknown): Problem {
  const status = httpStatusOf(err);
  const problem: Problem = {
    status,
    code: codeOf(err),
    detail: err instanceof BerthError ? err.message : status === 500 ? 'internal error; the gateway log has the details' : messageOf(err),
  };
  if (err instanceof SpecError || err instanceof PolicyError) problem.problems = err.problems;
  if (err instanceof BerthError && err.retryAfterS !== undefined) problem.retryAfterS = err.retryAfterS;
  return problem;
}

/** A problem for a catalogue code, its status taken from the catalogue. */
export function problemFor(code: ErrorCode, detail: string, extras: Partial<Pick<Problem, 'app' | 'retryAfterS' | 'problems'>> = {}): Problem {
  return { status: ERROR_CATALOGUE[code].status, code, detail, ...extras };
}

/** The problem+json text (RFC 9457): type `urn:berth:<code>`, title, status, code, detail and the extras. */
export function problemJson(problem: Problem): string {
  const body: Record<string, unknown> = {
    type: `urn:berth:${problem.code}`,
    title: titleOf(problem),
    status: problem.status,
    code: problem.code,
    detail: problem.detail,
  };
  if (problem.app !== undefined) body.app = problem.app;
  if (problem.problems !== undefined) body.problems = problem.problems;
  return JSON.stringify(body);
}

/**
 * The headers every problem answer carries, including Retry-After when the
 * problem has one. `nosniff`: the detail repeats what the request said (a path,
 * a host), and no browser may take the answer for anything but its declared type.
 */
export function problemHeaders(problem: Problem, bodyBytes: number): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/problem+json',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'content-length': String(bodyBytes),
  };
  if (problem.retryAfterS !== undefined) headers['retry-after'] = String(problem.retryAfterS);
  return headers;
}

/** Writes a problem on a ServerResponse; a response already under way is cut instead (its head cannot change). */
export function writeProblem(res: ServerResponse, problem: Problem, headers: Record<string, string> = {}, headOnly = false): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = problemJson(problem);
  res.writeHead(problem.status, { ...headers, ...problemHeaders(problem, Buffer.byteLength(text)) });
  res.end(headOnly ? undefined : text);
}

/**
 * The whole HTTP/1.1 answer for a socket that has no ServerResponse (an upgrade,
 * a request Node could not parse), with `connection: close`. `extraHeaders` are
 * written as given ([name, value, ...]).
 */
export function rawProblemResponse(problem: Problem, extraHeaders: readonly string[] = []): string {
  const text = problemJson(problem);
  let head = `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? ''}\r\n`;
  for (const [name, value] of Object.entries(problemHeaders(problem, Buffer.byteLength(text)))) head += `${name}: ${value}\r\n`;
  for (let i = 0; i + 1 < extraHeaders.length; i += 2) head += `${extraHeaders[i]}: ${extraHeaders[i + 1]}\r\n`;
  return `${head}connection: close\r\n\r\n${text}`;
}

/** Every API error leaves through here, as problem+json with berth's stable `code`; spec errors carry each problem's field path. */
export function sendProblem(res: ServerResponse, err: unknown, headers: Record<string, string> = {}): void {
  writeProblem(res, problemOf(err), headers);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body, null, 2) + '\n';
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers, 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

function titleOf(problem: Problem): string {
  return ERROR_CATALOGUE[problem.code]?.title ?? STATUS_CODES[problem.status] ?? 'Error';
}
