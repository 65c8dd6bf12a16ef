import type { ServerResponse } from 'node:http';
import { BerthError, httpStatusOf, messageOf, PolicyError, SpecError } from '../errors.js';

/**
 * Every API error leaves through here, as `application/problem+json` (RFC 9457)
 * with berth's stable `code`; spec errors carry each problem's field path.
 */
export function sendProblem(res: ServerResponse, err: unknown, headers: Record<string, string> = {}): void {
  const status = httpStatusOf(err);
  const code = err instanceof BerthError ? err.code : 'internal';
  const body: Record<string, unknown> = {
    type: `urn:berth:${code}`,
    title: titleOf(status),
    status,
    code,
    detail: status === 500 && !(err instanceof BerthError) ? 'internal error; the gateway log has the details' : messageOf(err),
  };
  if (err instanceof SpecError || err instanceof PolicyError) body.problems = err.problems;
  const retryAfterS = (err as { retryAfterS?: number }).retryAfterS;
  if (retryAfterS !== undefined) headers['retry-after'] = String(retryAfterS);
  sendJson(res, status, body, { 'content-type': 'application/problem+json', ...headers });
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

function titleOf(status: number): string {
  switch (status) {
    case 400: return 'Bad request';
    case 401: return 'Unauthorized';
    case 403: return 'Forbidden';
    case 404: return 'Not found';
    case 405: return 'Method not allowed';
    case 409: return 'Conflict';
    case 413: return 'Payload too large';
    case 422: return 'Unprocessable spec';
    case 502: return 'Bad gateway';
    case 503: return 'Service unavailable';
    case 504: return 'Gateway timeout';
    default: return 'Internal error';
  }
}
