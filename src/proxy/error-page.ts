import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { ERROR_CATALOGUE } from '../errors.js';
import { problemHeaders, problemJson, type Problem } from '../api/problem.js';
import type { ProxyFailure } from './failure.js';

/** Browsers get a readable page; API clients get problem+json (RFC 9457). */
export function wantsHtml(req: { headers: { accept?: string } }): boolean {
  return acceptsHtml(req.headers.accept);
}

/**
 * Whether an Accept header names HTML as acceptable: `text/html` with a weight
 * above zero. `text/html;q=0` says "never HTML" (RFC 9110 §12.5.1), which is how
 * an API client that mentions it at all refuses it. Pure.
 */
export function acceptsHtml(accept: string | undefined): boolean {
  // Media types and parameter names are case-insensitive.
  const lower = accept?.toLowerCase();
  if (lower === undefined || !lower.includes('text/html')) return false;
  return lower.split(',').some((range) => {
    const [type, ...params] = range.split(';');
    if (type!.trim() !== 'text/html') return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

/**
 * The error page is served on the app's own origin and carries text an
 * attacker may choose (the Host, the path, an app's exit message): escaped
 * here, and should an escape ever be missed, this policy still runs no script,
 * loads nothing and submits nowhere. Framing is left alone: an app embedded in
 * its own site's frame shows its error page there too.
 */
export const ERROR_PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

/** Answers a failed or unroutable request, naming the app and the reason; returns the body bytes sent (for the history). */
export function sendFailure(req: IncomingMessage, res: ServerResponse, failure: ProxyFailure, app?: string): number {
  if (failure.status === 0 || res.headersSent || res.destroyed) {
    if (!res.writableEnded) res.destroy();
    return 0;
  }
  const { body, headers } = failureAnswer(failure, app, wantsHtml(req));
  res.writeHead(failure.status, headers);
  if (req.method === 'HEAD') {
    res.end();
    return 0;
  }
  res.end(body);
  return Buffer.byteLength(body);
}

/** The page (HTML for a browser) or problem+json answering a failure, with its headers. */
export function failureAnswer(failure: ProxyFailure, app: string | undefined, html: boolean): { body: string; headers: Record<string, string> } {
  const problem = problemOfFailure(failure, app);
  if (html) {
    const body = renderHtml(failure, ERROR_CATALOGUE[failure.code].title, app);
    return { body, headers: { ...problemHeaders(problem, Buffer.byteLength(body)), 'content-type': 'text/html; charset=utf-8', 'content-security-policy': ERROR_PAGE_POLICY } };
  }
  const body = problemJson(problem);
  return { body, headers: problemHeaders(problem, Buffer.byteLength(body)) };
}

/**
 * sendFailure's answer as raw bytes, for berth's own front (no ServerResponse):
 * the same page or problem, `x-request-id` and the date (and over TLS the
 * app's `hsts`), and the connection kept unless `close`. In the order Node's
 * server writes them on the full path, where the HSTS and then the id are set
 * on the response before sendFailure's writeHead adds the page's fields, and
 * the date follows them all: the client cannot tell which path answered.
 */
export function rawFailureAnswer(failure: ProxyFailure, app: string | undefined, html: boolean, headOnly: boolean, requestId: string, date: string, close: boolean, hsts?: string): string {
  const { body, headers } = failureAnswer(failure, app, html);
  let head = `HTTP/1.1 ${failure.status} ${STATUS_CODES[failure.status] ?? ''}\r\n`;
  if (hsts !== undefined) head += `strict-transport-security: ${hsts}\r\n`;
  head += `x-request-id: ${requestId}\r\n`;
  for (const name in headers) head += `${name}: ${headers[name]}\r\n`;
  head += `date: ${date}\r\n`;
  if (close) head += 'connection: close\r\n';
  return headOnly ? head + '\r\n' : `${head}\r\n${body}`;
}

/** A proxy failure as the shared problem writer takes it. */
export function problemOfFailure(failure: ProxyFailure, app?: string): Problem {
  return { status: failure.status, code: failure.code, detail: failure.publicReason ?? failure.reason, retryAfterS: failure.retryAfterS, app };
}

function renderHtml(failure: ProxyFailure, title: string, app?: string): string {
  const subject = app ? `app <strong>${escapeHtml(app)}</strong>` : 'this address';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${failure.status} ${title}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:10vh auto;padding:0 1rem;color:#222}code{background:#eee;padding:.1em .3em}</style></head>
<body><h1>${failure.status} ${title}</h1><p>berth could not serve ${subject}: ${escapeHtml(failure.publicReason ?? failure.reason)}.</p><p><code>${escapeHtml(failure.code)}</code></p></body></html>`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
