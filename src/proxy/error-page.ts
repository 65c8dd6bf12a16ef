import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ProxyFailure } from './failure.js';

const TITLES: Record<number, string> = {
  404: 'No app here',
  502: 'Bad gateway',
  503: 'Service unavailable',
  504: 'Gateway timeout',
};

/** Browsers get a readable page; API clients get problem+json (RFC 9457). */
export function wantsHtml(req: IncomingMessage): boolean {
  const accept = req.headers.accept;
  return accept !== undefined && accept.includes('text/html');
}

/** Answers a failed or unroutable request, naming the app and the reason. */
export function sendFailure(req: IncomingMessage, res: ServerResponse, failure: ProxyFailure, app?: string): void {
  if (failure.status === 0 || res.headersSent || res.destroyed) {
    if (!res.writableEnded) res.destroy();
    return;
  }
  const title = TITLES[failure.status] ?? 'Error';
  const headers: Record<string, string> = { 'cache-control': 'no-store' };
  if (failure.retryAfterS !== undefined) headers['retry-after'] = String(failure.retryAfterS);
  let body: string;
  if (wantsHtml(req)) {
    headers['content-type'] = 'text/html; charset=utf-8';
    body = renderHtml(failure, title, app);
  } else {
    headers['content-type'] = 'application/problem+json';
    body = JSON.stringify({ type: `urn:berth:${failure.code}`, title, status: failure.status, code: failure.code, app, detail: failure.reason });
  }
  headers['content-length'] = String(Buffer.byteLength(body));
  res.writeHead(failure.status, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}

function renderHtml(failure: ProxyFailure, title: string, app?: string): string {
  const subject = app ? `app <strong>${escapeHtml(app)}</strong>` : 'this address';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${failure.status} ${title}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:10vh auto;padding:0 1rem;color:#222}code{background:#eee;padding:.1em .3em}</style></head>
<body><h1>${failure.status} ${title}</h1><p>berth could not serve ${subject}: ${escapeHtml(failure.reason)}.</p><p><code>${escapeHtml(failure.code)}</code></p></body></html>`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
