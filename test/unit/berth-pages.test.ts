// berth's own answers on the proxy listener (error pages, problem+json, the waiting
// page, /_berth/ endpoints) carry text a request or an app chose: each is escaped,
// declared nosniff, and the error page runs nothing even were an escape missed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { acceptsHtml, ERROR_PAGE_POLICY, failureAnswer, rawFailureAnswer, wantsHtml } from '../../src/proxy/error-page.js';
import { handleBerthEndpoint } from '../../src/proxy/berth-endpoints.js';
import { isBrowserNavigation, sendWaitingPage } from '../../src/proxy/waiting-page.js';
import type { UpstreamSource } from '../../src/proxy/upstream.js';
/** Routes under which every app is reached (these tests are not about hosts). */
const everywhere = { reaches: () => true };

const hostile = '<script>alert(1)</script>"\'><img src=x onerror=alert(2)>';

/** A ServerResponse stand-in that keeps what was written. */
function capture(): { res: ServerResponse; out: { status: number; headers: Record<string, unknown>; body: string } } {
  const out = { status: 0, headers: {} as Record<string, unknown>, body: '' };
  const res = {
    headersSent: false,
    writeHead(status: number, headers: Record<string, unknown>) {
      out.status = status;
      out.headers = headers;
    },
    end(body?: string) {
      out.body = body ?? '';
    },
  } as unknown as ServerResponse;
  return { res, out };
}

test('the error page escapes a hostile host, path or exit message, and forbids script by policy', () => {
  const failure = { status: 502 as const, code: 'start_failed' as const, reason: `the app said ${hostile}` };
  const page = failureAnswer(failure, 'web', true);
  assert.ok(!page.body.includes('<script>alert') && !page.body.includes('<img'), page.body);
  assert.ok(page.body.includes('&#60;script&#62;'));
  assert.equal(page.headers['content-security-policy'], ERROR_PAGE_POLICY);
  assert.match(ERROR_PAGE_POLICY, /default-src 'none'/);
  assert.ok(!/script-src/.test(ERROR_PAGE_POLICY), 'no script at all');
  assert.equal(page.headers['x-content-type-options'], 'nosniff');
  const json = failureAnswer(failure, 'web', false);
  assert.equal(json.headers['content-type'], 'application/problem+json');
  assert.equal(json.headers['x-content-type-options'], 'nosniff');
  // berth's own front writes the same headers.
  const raw = rawFailureAnswer({ status: 404, code: 'no_route', reason: `no app answers ${hostile}` }, undefined, true, false, 'rid', 'now', false);
  assert.match(raw, /\r\ncontent-security-policy: default-src 'none'/);
  assert.match(raw, /\r\nx-content-type-options: nosniff\r\n/);
  assert.ok(!raw.includes('<script>alert'));
});

test('the waiting page and the /_berth/ endpoints are declared nosniff', () => {
  const waiting = capture();
  sendWaitingPage(waiting.res, { app: 'web', title: hostile, message: hostile });
  assert.equal(waiting.out.headers['x-content-type-options'], 'nosniff');
  assert.ok(!waiting.out.body.includes('<script>alert') && !waiting.out.body.includes('<img'));

  const upstreams = { publicStatus: (app: string) => (app === 'web' ? { state: 'failed', ready: false, error: hostile } : undefined) } as unknown as UpstreamSource;
  const status = capture();
  handleBerthEndpoint({ method: 'GET', url: '/_berth/status/web', headers: {} } as IncomingMessage, status.res, upstreams, everywhere, '');
  assert.equal(status.out.status, 200);
  assert.equal(status.out.headers['x-content-type-options'], 'nosniff');
  const missing = capture();
  handleBerthEndpoint({ method: 'GET', url: `/_berth/status/${encodeURIComponent(hostile)}`, headers: {} } as IncomingMessage, missing.res, upstreams, everywhere, '');
  assert.equal(missing.out.status, 404);
  assert.equal(missing.out.headers['x-content-type-options'], 'nosniff');
});

test('only an Accept that takes HTML gets a page: text/html;q=0 refuses it, as an API client may say', () => {
  for (const accept of ['text/html', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', 'application/json, TEXT/HTML ; q=0.5', 'text/html;level=1']) {
    assert.equal(acceptsHtml(accept), true, accept);
  }
  for (const accept of [undefined, '', '*/*', 'application/json', 'application/json, text/html;q=0', 'text/html; q=0.0', 'text/htmlx', 'application/xhtml+xml']) {
    assert.equal(acceptsHtml(accept), false, String(accept));
  }
  const apiClient = { method: 'GET', headers: { accept: 'application/json, text/html;q=0' } } as unknown as IncomingMessage;
  assert.equal(isBrowserNavigation(apiClient), false, 'an API client that refuses HTML is held, not shown a page');
  assert.equal(wantsHtml(apiClient), false);
});
