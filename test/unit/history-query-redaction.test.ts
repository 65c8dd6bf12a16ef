// Tokens, keys, passwords and URL signatures in query strings stay out of the request history
// (the store, `berth history`, the API, the dashboard): their values are kept as REDACTED, as
// Caddy's log filters do, unless the config keeps queries whole.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildConfig } from '../../src/config/load-config.js';
import { queryRedactor, redactQuery, sensitiveNames } from '../../src/store/query-redaction.js';
import { FakeGatewayBed } from '../support/fake-gateway.js';
import { httpGet } from '../support/gateway-harness.js';
import { waitFor } from '../support/wait-for.js';

describe('redactQuery', () => {
  const redact = queryRedactor();
  it('replaces the values of the built-in names, matched decoded and in any case, and nothing else', () => {
    const table: Array<[string, string]> = [
      ['/a/b', '/a/b'],
      ['/a?', '/a?'],
      ['/a?page=2&q=x', '/a?page=2&q=x'],
      ['/a?access_token=abc.def', '/a?access_token=REDACTED'],
      ['/a?page=2&token=t0k&q=x', '/a?page=2&token=REDACTED&q=x'],
      ['/a?API_KEY=k1&Password=p&x=1', '/a?API_KEY=REDACTED&Password=REDACTED&x=1'],
      ['/dl?X-Amz-Algorithm=AWS4&X-Amz-Credential=AKIA%2F1&X-Amz-Signature=deadbeef', '/dl?X-Amz-Algorithm=AWS4&X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED'],
      // The name as the app decodes it: percent escapes and `+`.
      ['/a?access%5Ftoken=s&%74oken=s2', '/a?access%5Ftoken=REDACTED&%74oken=REDACTED'],
      ['/a?api+key=s&api%2dkey=s2', '/a?api+key=s&api%2dkey=REDACTED'],
      // A malformed escape is compared as written; empty values and bare names have nothing to hide.
      ['/a?%zz=1&token=&token', '/a?%zz=1&token=&token'],
      ['/a?token=x&token=y', '/a?token=REDACTED&token=REDACTED'],
      // A value holding '=' is replaced whole; a name that only contains a sensitive one is not.
      ['/a?sig=a=b==&mytoken=1&token_type=bearer', '/a?sig=REDACTED&mytoken=1&token_type=bearer'],
      ['/a/token=1/b', '/a/token=1/b'],
    ];
    for (const [target, kept] of table) assert.equal(redact(target), kept, target);
    // No query, nothing redacted: the very same string (no copy on the hot path).
    const plain = '/session/web/items/42?page=3';
    assert.equal(redact(plain), plain);
  });

  it('adds configured names to the list, or keeps queries whole', () => {
    assert.equal(queryRedactor({ sensitiveParams: ['Ticket'] })('/a?ticket=T1&token=x&q=1'), '/a?ticket=REDACTED&token=REDACTED&q=1');
    assert.equal(queryRedactor({ keepQueries: true })('/a?token=x'), '/a?token=x');
    // Names beginning with any character, a space (written +) or an escape included.
    assert.equal(queryRedactor({ sensitiveParams: [' lead', 'élan', '_csrf'] })('/a?+lead=1&%C3%A9lan=2&%c3%a9LAN=3&_CSRF=4&%5Fcsrf=5&élan=6'), '/a?+lead=REDACTED&%C3%A9lan=REDACTED&%c3%a9LAN=REDACTED&_CSRF=REDACTED&%5Fcsrf=REDACTED&élan=REDACTED');
  });

  it('walks a query of many bare names once (no quadratic scan for the next =)', () => {
    const target = `/a?${'b&'.repeat(50_000)}token=x`;
    const started = performance.now();
    assert.equal(redactQuery(target, sensitiveNames(['token'])), `/a?${'b&'.repeat(50_000)}token=REDACTED`);
    // Quadratic, this is ~5e9 character compares (seconds); linear, about a millisecond. Generous either way.
    assert.ok(performance.now() - started < 1_000, 'linear in the query');
  });

  it('is read from the config: history.sensitiveParams and history.keepQueries, off by default', async () => {
    const plain = await buildConfig({}, '/tmp');
    assert.deepEqual([plain.history.sensitiveParams, plain.history.keepQueries], [[], false]);
    const set = await buildConfig({ history: { sensitiveParams: ['ticket'], keepQueries: true } }, '/tmp');
    assert.deepEqual([set.history.sensitiveParams, set.history.keepQueries], [['ticket'], true]);
    await assert.rejects(buildConfig({ history: { sensitiveParams: [''] } }, '/tmp'), /history\.sensitiveParams/);
  });
});

it('a gateway keeps the request history without the secret values, the configured names too', async (t) => {
  const bed = await FakeGatewayBed.create('history:\n  sensitiveParams: [ticket]\n');
  t.after(() => bed.dispose());
  const gateway = await bed.start();
  const spec = { apiVersion: 'berth/v1', name: 'web', image: 'fake/web:1', port: 8080, readiness: { path: '/healthz' }, startTimeout: '5s' };
  assert.equal((await bed.api(gateway, 'POST', '/v1/apps', spec)).status, 200);
  const sent = '/session/web/report?access_token=s3cr3t-AT&page=2&X-Amz-Signature=5ig-s3cr3t&ticket=T-s3cr3t';
  assert.equal((await httpGet(gateway.proxyAddress!.port, sent)).status, 200);
  const found = await waitFor('the request in the history', async () => {
    const history = await bed.api(gateway, 'GET', '/v1/apps/web/history');
    const row = history.status === 200 ? history.json.items.find((r: { path: string }) => r.path.startsWith('/session/web/report')) : undefined;
    return row ? { history, row } : undefined;
  });
  const { history, row } = found;
  assert.equal(row.path, '/session/web/report?access_token=REDACTED&page=2&X-Amz-Signature=REDACTED&ticket=REDACTED');
  assert.doesNotMatch(JSON.stringify(history.json), /s3cr3t/);
});
