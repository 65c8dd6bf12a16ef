import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { clientAddressOf, downstreamResponseHeaders, forwardedElement, isPlainHeaderName, upstreamRequestHeaders } from '../../src/proxy/forwarded-headers.js';

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

test("the client's X-Request-Id is replaced by the one passed as requestId, never sent twice", () => {
  const req = fakeRequest(['Host', 'a.example', 'X-Request-Id', 'from-client']);
  const out = asMap(upstreamRequestHeaders(req, { trustedPeer: false, requestId: 'berth-1' }));
  assert.deepEqual(out.get('x-request-id'), ['berth-1']);
});

test('a name no framework could fold is forwarded; any other is dropped', () => {
  const req = fakeRequest([
    'Host', 'a.example',
    'X_Forwarded_For', '6.6.6.6',
    'X-Forwarded_Host', 'evil',
    'X.Real.IP', '6.6.6.6',
    'Remote_User', 'admin',
    'X-Ok-1', 'kept',
    'Accept', '*/*',
    'X~Tilde', 't',
  ]);
  const out = asMap(upstreamRequestHeaders(req, { trustedPeer: false }));
  for (const name of ['x_forwarded_for', 'x-forwarded_host', 'x.real.ip', 'remote_user', 'x~tilde']) assert.equal(out.has(name), false, name);
  assert.deepEqual(out.get('x-ok-1'), ['kept']);
  assert.deepEqual(out.get('x-forwarded-for'), ['10.1.2.3']);
  assert.deepEqual(out.get('x-forwarded-host'), ['a.example']);
});

test('isPlainHeaderName: letters, digits and - only', () => {
  const cases: Array<[string, boolean]> = [
    ['Content-Type', true], ['x-1', true], ['X_Y', false], ['a.b', false], ['a b', false], ['é', false], ['', false], ['a~', false], ['A!', false],
  ];
  for (const [name, plain] of cases) assert.equal(isPlainHeaderName(name), plain, name);
});

/** [peer trusted?, client headers, expected identity headers upstream]. */
const identity: Array<[trusted: boolean, headers: string[], expected: Record<string, string[] | undefined>]> = [
  [false, [], { 'x-forwarded-for': ['10.1.2.3'], 'x-real-ip': ['10.1.2.3'], forwarded: ['for=10.1.2.3;proto=http;host=a.example'], 'x-forwarded-port': undefined }],
  [
    false,
    ['Forwarded', 'for=6.6.6.6', 'X-Real-IP', '6.6.6.6', 'X-Forwarded-Port', '1', 'X-Forwarded-Prefix', '/admin', 'X-Forwarded-Server', 'evil', 'x-forwarded-ssl', 'on', 'X-FORWARDED-FOR', '6.6.6.6'],
    {
      forwarded: ['for=10.1.2.3;proto=http;host=a.example'],
      'x-real-ip': ['10.1.2.3'],
      'x-forwarded-for': ['10.1.2.3'],
      'x-forwarded-port': undefined,
      'x-forwarded-prefix': undefined,
      'x-forwarded-server': undefined,
      'x-forwarded-ssl': undefined,
    },
  ],
  [
    true,
    ['Forwarded', 'for=1.1.1.1;proto=https', 'Forwarded', 'for=2.2.2.2', 'X-Real-IP', '1.1.1.1', 'X-Forwarded-Port', '443', 'X-Forwarded-Prefix', '/p', 'X-Forwarded-For', '1.1.1.1', 'X-Forwarded-For', '2.2.2.2'],
    {
      forwarded: ['for=1.1.1.1;proto=https, for=2.2.2.2, for=10.1.2.3;proto=http;host=a.example'],
      'x-real-ip': ['1.1.1.1'],
      'x-forwarded-for': ['1.1.1.1, 2.2.2.2, 10.1.2.3'],
      'x-forwarded-port': ['443'],
      'x-forwarded-prefix': ['/p'],
    },
  ],
  [true, [], { forwarded: ['for=10.1.2.3;proto=http;host=a.example'], 'x-real-ip': ['10.1.2.3'], 'x-forwarded-for': ['10.1.2.3'] }],
];

for (const [trusted, headers, expected] of identity) {
  test(`identity headers from a ${trusted ? 'trusted' : 'untrusted'} peer: ${headers.filter((_, i) => i % 2 === 0).join(', ') || 'none'}`, () => {
    const req = fakeRequest(['Host', 'a.example', ...headers]);
    const out = asMap(upstreamRequestHeaders(req, { trustedPeer: trusted }));
    for (const [name, values] of Object.entries(expected)) assert.deepEqual(out.get(name), values, name);
  });
}

/** [client address, proto, host, Forwarded element]. */
const elements: Array<[string, string, string, string]> = [
  ['10.1.2.3', 'http', 'a.example', 'for=10.1.2.3;proto=http;host=a.example'],
  ['::1', 'http', 'a.example', 'for="[::1]";proto=http;host=a.example'],
  ['2001:db8::1', 'https', 'a.example:8443', 'for="[2001:db8::1]";proto=https;host="a.example:8443"'],
  ['::ffff:10.0.0.1', 'http', '[::1]:80', 'for="[::ffff:10.0.0.1]";proto=http;host="[::1]:80"'],
  ['', 'http', '', 'for=unknown;proto=http'],
];

for (const [client, proto, host, element] of elements) {
  test(`Forwarded element for ${client || '(unknown)'} ${host || '(no host)'}`, () => {
    assert.equal(forwardedElement(client, proto, host), element);
  });
}

test('the captured client address and the routed authority are used, not the socket and raw Host', () => {
  const req = fakeRequest(['Host', 'A.Example.:80', 'host', 'second'], '9.9.9.9');
  const list = upstreamRequestHeaders(req, { trustedPeer: false, client: '10.0.0.7', host: 'a.example:80' });
  const out = asMap(list);
  assert.deepEqual(out.get('host'), ['a.example:80']);
  assert.equal(list[0], 'host', 'Host goes first');
  assert.deepEqual(out.get('x-forwarded-for'), ['10.0.0.7']);
  assert.deepEqual(out.get('x-forwarded-host'), ['a.example:80']);
  assert.deepEqual(out.get('forwarded'), ['for=10.0.0.7;proto=http;host="a.example:80"']);
});

test('a request whose socket is gone still gets its headers (no throw)', () => {
  const req = { rawHeaders: ['Host', 'h'], headers: { host: 'h' }, socket: null } as unknown as IncomingMessage;
  const out = asMap(upstreamRequestHeaders(req, { trustedPeer: false }));
  assert.deepEqual(out.get('x-forwarded-for'), ['']);
  assert.deepEqual(out.get('forwarded'), ['for=unknown;proto=http;host=h']);
});

test('clientAddressOf unmaps IPv4-mapped IPv6 addresses and survives a missing socket', () => {
  const cases: Array<[string | undefined, string]> = [
    ['10.1.2.3', '10.1.2.3'],
    ['::ffff:10.1.2.3', '10.1.2.3'],
    ['::1', '::1'],
    ['::ffff:abcd', '::ffff:abcd'],
    [undefined, ''],
  ];
  for (const [remoteAddress, expected] of cases) assert.equal(clientAddressOf({ socket: { remoteAddress } } as unknown as IncomingMessage), expected, String(remoteAddress));
  assert.equal(clientAddressOf({ socket: null } as unknown as IncomingMessage), '');
});

test('other client-address and original-URL headers frameworks trust are dropped from an untrusted peer, kept from a trusted one', () => {
  const spoofed = ['True-Client-IP', '6.6.6.6', 'Client-IP', '6.6.6.6', 'X-Client-IP', '6.6.6.6', 'CF-Connecting-IP', '6.6.6.6', 'X-Original-URL', '/admin', 'X-Rewrite-URL', '/admin'];
  const req = fakeRequest(['Host', 'a.example', ...spoofed, 'Accept', '*/*']);
  const untrusted = upstreamRequestHeaders(req, { trustedPeer: false });
  for (let i = 0; i < spoofed.length; i += 2) assert.ok(!untrusted.includes(spoofed[i]!), `${spoofed[i]} is dropped`);
  assert.ok(untrusted.includes('Accept'));
  const trusted = upstreamRequestHeaders(req, { trustedPeer: true });
  for (let i = 0; i < spoofed.length; i += 2) assert.ok(trusted.includes(spoofed[i]!), `${spoofed[i]} of a trusted proxy is kept`);
});

test('scheme headers frameworks read as HTTPS (Front-End-Https, X-Url-Scheme, X-Scheme, X-ARR-SSL) are dropped from an untrusted peer, kept from a trusted one', () => {
  // Rack, Tornado, IIS-era and PHP code take any of these as "the client used https" (secure cookies, redirects).
  const spoofed = ['Front-End-Https', 'on', 'X-Url-Scheme', 'https', 'X-Scheme', 'https', 'X-ARR-SSL', '2048|256|C=US', 'X-Forwarded-Ssl', 'on', 'X-Forwarded-Scheme', 'https', 'X-Original-Host', 'evil.example', 'X-Host', 'evil.example'];
  const req = fakeRequest(['Host', 'a.example', ...spoofed, 'Accept', '*/*']);
  const untrusted = asMap(upstreamRequestHeaders(req, { trustedPeer: false }));
  for (let i = 0; i < spoofed.length; i += 2) assert.equal(untrusted.get(spoofed[i]!.toLowerCase()), undefined, `${spoofed[i]} is dropped`);
  assert.deepEqual(untrusted.get('x-forwarded-proto'), ['http']);
  const trusted = asMap(upstreamRequestHeaders(req, { trustedPeer: true }));
  for (let i = 0; i < spoofed.length; i += 2) assert.deepEqual(trusted.get(spoofed[i]!.toLowerCase()), [spoofed[i + 1]], `${spoofed[i]} of a trusted proxy is kept`);
});

test('a request without Host (HTTP/1.0) gets no empty X-Forwarded-Host', () => {
  const out = asMap(upstreamRequestHeaders(fakeRequest(['Accept', '*/*']), { trustedPeer: false }));
  assert.equal(out.get('x-forwarded-host'), undefined);
  assert.deepEqual(out.get('forwarded'), ['for=10.1.2.3;proto=http']);
});

test('the Forwarded element reused from the last request is the one for this client, proto and host', () => {
  const element = (client: string, host: string, encrypted: boolean) =>
    asMap(upstreamRequestHeaders(fakeRequest(['Host', host]), { trustedPeer: false, client, host, encrypted })).get('forwarded');
  assert.deepEqual(element('10.0.0.1', 'a.example', false), ['for=10.0.0.1;proto=http;host=a.example']);
  assert.deepEqual(element('10.0.0.1', 'a.example', false), ['for=10.0.0.1;proto=http;host=a.example']);
  assert.deepEqual(element('10.0.0.2', 'a.example', false), ['for=10.0.0.2;proto=http;host=a.example']);
  assert.deepEqual(element('10.0.0.2', 'a.example', true), ['for=10.0.0.2;proto=https;host=a.example']);
  assert.deepEqual(element('10.0.0.2', 'b.example:8080', true), ['for=10.0.0.2;proto=https;host="b.example:8080"']);
  assert.deepEqual(element('', 'b.example:8080', true), ['for=unknown;proto=https;host="b.example:8080"']);
  assert.deepEqual(element('10.0.0.1', 'a.example', false), ['for=10.0.0.1;proto=http;host=a.example']);
});

/** [peer trusted?, client headers, the route's stripped prefix, expected X-Forwarded-Prefix upstream]. */
const prefixes: Array<[trusted: boolean, headers: string[], prefix: string | undefined, expected: string[] | undefined]> = [
  [false, [], '/session/a', ['/session/a']],
  [false, ['X-Forwarded-Prefix', '/evil'], '/session/a', ['/session/a']],
  [false, ['X-Forwarded-Prefix', '/evil'], undefined, undefined],
  // A trusted proxy that mounts berth under /berth: the app lives under both prefixes.
  [true, ['X-Forwarded-Prefix', '/berth/'], '/session/a', ['/berth/session/a']],
  [true, ['X-Forwarded-Prefix', '/berth'], undefined, ['/berth']],
];

for (const [trusted, headers, prefix, expected] of prefixes) {
  test(`X-Forwarded-Prefix from a ${trusted ? 'trusted' : 'untrusted'} peer sending ${headers[1] ?? 'none'}, route strips ${prefix ?? 'nothing'}`, () => {
    const out = asMap(upstreamRequestHeaders(fakeRequest(['Host', 'a.example', ...headers]), { trustedPeer: trusted, prefix }));
    assert.deepEqual(out.get('x-forwarded-prefix'), expected);
  });
}
