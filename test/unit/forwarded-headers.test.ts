import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { downstreamResponseHeaders, upstreamRequestHeaders } from '../../src/proxy/forwarded-headers.js';

function fakeRequest(rawHeaders: string[], remoteAddress = '10.1.2.3'): IncomingMessage {
  const headers: Record<string, string> = {};
  for (let i = 0; i < rawHeaders.length; i += 2) headers[rawHeaders[i]!.toLowerCase()] = rawHeaders[i + 1]!;
  return { rawHeaders, headers, socket: { remoteAddress } } as unknown as IncomingMessage;
}

function asMap(list: string[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (let i = 0; i < list.length; i += 2) {
    const k = list[i]!.toLowerCase();
    map.set(k, [...(map.get(k) ?? []), list[i + 1]!]);
  }
  return map;
}

test('hop-by-hop headers and those named by Connection are dropped', () => {
  const req = fakeRequest(['Host', 'a.example', 'Connection', 'keep-alive, X-Secret', 'Keep-Alive', '5', 'X-Secret', 's', 'TE', 'trailers', 'Expect', '100-continue', 'Accept', '*/*']);
  const out = asMap(upstreamRequestHeaders(req, { trustedPeer: false }));
  assert.equal(out.has('connection'), false);
  assert.equal(out.has('keep-alive'), false);
  assert.equal(out.has('x-secret'), false);
  assert.equal(out.has('te'), false);
  assert.equal(out.has('expect'), false);
  assert.deepEqual(out.get('accept'), ['*/*']);
  assert.deepEqual(out.get('host'), ['a.example']);
});

test('client-supplied X-Forwarded-* are replaced for untrusted peers', () => {
  const req = fakeRequest(['Host', 'a.example', 'X-Forwarded-For', '6.6.6.6', 'X-Forwarded-Proto', 'https', 'X-Forwarded-Host', 'evil']);
  const out = asMap(upstreamRequestHeaders(req, { trustedPeer: false }));
  assert.deepEqual(out.get('x-forwarded-for'), ['10.1.2.3']);
  assert.deepEqual(out.get('x-forwarded-proto'), ['http']);
  assert.deepEqual(out.get('x-forwarded-host'), ['a.example']);
});

test('a trusted peer has its X-Forwarded-* extended', () => {
  const req = fakeRequest(['Host', 'inner', 'X-Forwarded-For', '1.1.1.1', 'X-Forwarded-Proto', 'https', 'X-Forwarded-Host', 'outer.example']);
  const out = asMap(upstreamRequestHeaders(req, { trustedPeer: true }));
  assert.deepEqual(out.get('x-forwarded-for'), ['1.1.1.1, 10.1.2.3']);
  assert.deepEqual(out.get('x-forwarded-proto'), ['https']);
  assert.deepEqual(out.get('x-forwarded-host'), ['outer.example']);
});

test('upgrade requests keep connection: upgrade', () => {
  const req = fakeRequest(['Host', 'h', 'Connection', 'Upgrade', 'Upgrade', 'websocket', 'Sec-WebSocket-Key', 'k']);
  const out = asMap(upstreamRequestHeaders(req, { trustedPeer: false, upgrade: true }));
  assert.deepEqual(out.get('connection'), ['upgrade']);
  assert.deepEqual(out.get('upgrade'), ['websocket']);
  assert.deepEqual(out.get('sec-websocket-key'), ['k']);
});

test('response hop-by-hop headers are dropped, others kept', () => {
  const out = downstreamResponseHeaders({ 'content-type': 'text/plain', connection: 'keep-alive', 'keep-alive': 'timeout=5', 'transfer-encoding': 'chunked', 'set-cookie': ['a=1', 'b=2'] });
  assert.deepEqual(out, { 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'] });
});

test("the client's X-Request-Id is replaced by the one passed in extra, never sent twice", () => {
  const req = fakeRequest(['Host', 'a.example', 'X-Request-Id', 'from-client']);
  const out = asMap(upstreamRequestHeaders(req, { trustedPeer: false, extra: ['x-request-id', 'berth-1'] }));
  assert.deepEqual(out.get('x-request-id'), ['berth-1']);
});
