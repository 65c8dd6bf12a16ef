/**
 * `GET /v1/apps/NAME/events` once NAME is deleted: the stream sends the `deleted` event and
 * ends, as `docker logs -f` ends with its container. Left open, it went on with a new app of
 * the same name; a client that reconnects now gets 404. The gateway-wide stream goes on.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeGatewayBed } from '../support/fake-gateway.js';

/** Reads a stream's text until it ends, or fails past `withinMs`. */
async function readToEnd(body: ReadableStream<Uint8Array>, withinMs: number): Promise<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let late = false;
  const deadline = setTimeout(() => {
    late = true;
    void reader.cancel();
  }, withinMs);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done && late) throw new Error(`the stream did not end within ${withinMs} ms; it sent: ${text}`);
      if (done) return text;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    clearTimeout(deadline);
  }
}

describe("an app's event stream when the app is deleted", () => {
  it('sends the deleted event, then ends; a reconnect gets 404; /v1/events goes on', async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    const gateway = await bed.start();
    assert.equal((await bed.api(gateway, 'POST', '/v1/apps', { apiVersion: 'berth/v1', name: 'web', image: 'fake/web:1', port: 8080 })).status, 200);
    const base = `http://127.0.0.1:${gateway.adminAddress!.port}`;
    const headers = { authorization: `Bearer ${bed.adminToken}` };
    const abort = new AbortController();
    t.after(() => abort.abort());
    const appStream = await fetch(`${base}/v1/apps/web/events`, { headers });
    const allStream = await fetch(`${base}/v1/events`, { headers, signal: abort.signal });
    assert.equal(appStream.status, 200);
    assert.equal(allStream.status, 200);
    assert.equal((await bed.api(gateway, 'DELETE', '/v1/apps/web')).status < 300, true);
    const text = await readToEnd(appStream.body!, 5_000);
    assert.match(text, /event: deleted\ndata: \{"type":"deleted","app":"web"/);
    assert.ok(text.trimEnd().endsWith('}'), 'the deleted event is the last one');
    assert.equal((await fetch(`${base}/v1/apps/web/events`, { headers })).status, 404);
    // The gateway-wide stream is not about one app: it stays open.
    const reader = allStream.body!.getReader();
    const first = await reader.read();
    assert.equal(first.done, false);
    abort.abort();
  });
});
