import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { pino } from 'pino';
import { ProxyServer } from '../../src/proxy/proxy-server.js';
import { RouteTable } from '../../src/proxy/route-table.js';
import { StaticUpstreams } from '../../src/proxy/static-upstreams.js';
import { RawClient, hasWholeResponse } from '../support/raw-client.js';

/** An app that records every byte it is sent and answers its name and what it parsed. */
interface RecordingApp {
  server: Server;
  port: number;
  /** Every byte received, on every connection, in order (latin1). */
  bytes: string;
}

async function recordingApp(name: string): Promise<RecordingApp> {
  const app: RecordingApp = { server: createServer(), port: 0, bytes: '' };
  app.server.on('connection', (socket: Socket) => socket.on('data', (chunk: Buffer) => (app.bytes += chunk.toString('latin1'))));
  app.server.on('request', (req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('latin1')));
    req.on('end', () => {
      const answer = JSON.stringify({ app: name, url: req.url, rawHeaders: req.rawHeaders, body });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
      res.end(answer);
    });
  });
  await new Promise<void>((r) => app.server.listen(0, '127.0.0.1', r));
  app.port = (app.server.address() as AddressInfo).port;
  return app;
}

/** The request heads in `bytes`, each from its request line to its blank line. */
function heads(bytes: string): string[] {
  return bytes.split(/(?=(?:GET|POST|HEAD) \/)/).map((h) => h.slice(0, h.indexOf('\r\n\r\n') + 4));
}

const bodyOf = (text: string) => text.slice(text.indexOf('\r\n\r\n') + 4);

/**
 * The request side of the proxy (client → berth → app) checked differentially,
 * as an HTTP conformance or smuggling suite would: the exact bytes the app
 * receives against what a correct proxy sends, through berth's own front (plain
 * heads) and through Node's server (everything else).
 */
describe('the request an app receives', () => {
  let a: RecordingApp;
  let b: RecordingApp;
  let proxy: ProxyServer;
  let port = 0;

  before(async () => {
    a = await recordingApp('a');
    b = await recordingApp('b');
    proxy = new ProxyServer({
      routes: new RouteTable([
        { app: 'a', routes: [{ host: 'a.test', path: '/', stripPrefix: false }] },
        { app: 'b', routes: [{ host: 'b.test', path: '/', stripPrefix: false }] },
      ]),
      upstreams: new StaticUpstreams({ a: { host: '127.0.0.1', port: a.port }, b: { host: '127.0.0.1', port: b.port } }),
      logger: pino({ level: 'silent' }),
    });
    port = (await proxy.listen('127.0.0.1', 0)).port;
  });

  after(async () => {
    await proxy.close(500);
    for (const app of [a, b]) {
      app.server.closeAllConnections();
      await new Promise<void>((r) => app.server.close(() => r()));
    }
  });

  /** Sends `raw` on a new connection and waits for `answers` whole responses (or the close). */
  async function exchange(raw: string, answers = 1): Promise<string> {
    const client = await RawClient.open(port);
    try {
      client.write(Buffer.from(raw, 'latin1'));
      return await client.until((t) => t.split('HTTP/1.1 ').length - 1 >= answers && hasWholeResponse(t.slice(t.lastIndexOf('HTTP/1.1 '))));
    } finally {
      client.destroy();
    }
  }

  /** berth's own headers after the client's, for a plain-HTTP request from 127.0.0.1 to `host`. */
  const own = (host: string, id: string) =>
    `x-forwarded-for: 127.0.0.1\r\nx-forwarded-proto: http\r\nx-forwarded-host: ${host}\r\nx-real-ip: 127.0.0.1\r\nforwarded: for=127.0.0.1;proto=http;host=${host}\r\nx-request-id: ${id}\r\n\r\n`;

  it('header bytes reach the app as sent: obs-text and UTF-8 raw, empty values, trimmed spaces, repeated names in order, long names', async () => {
    const longName = `X-${'Long'.repeat(15)}`;
    for (const [via, extra] of [
      ['the front', ''],
      // A byte >= 0x80 is not a plain head: Node's server takes it, and the same bytes must come out.
      ["Node's server", 'X-Raw: caf\xe9 \xc3\xa9 \xff\r\n'],
    ] as const) {
      a.bytes = '';
      const text = await exchange(
        `GET /h?q=1 HTTP/1.1\r\nHost: a.test\r\nX-Empty:\r\nX-Spaced: \t a  b \t\r\nX-Dup: 1\r\nx-dup: 2\r\nX-DUP: 3\r\n${longName}: v\r\n` +
          `X-Request-Id: ${'i'.repeat(128)}\r\n${extra}\r\n`,
      );
      assert.match(text, /^HTTP\/1\.1 200 /, via);
      assert.equal(
        a.bytes,
        `GET /h?q=1 HTTP/1.1\r\nhost: a.test\r\nX-Empty: \r\nX-Spaced: a  b\r\nX-Dup: 1\r\nx-dup: 2\r\nX-DUP: 3\r\n${longName}: v\r\n${extra}` + own('a.test', 'i'.repeat(128)),
        via,
      );
    }
  });

  it('a kept-alive connection naming other hosts, cases, ports and a trailing dot is routed and sent each one afresh', async () => {
    a.bytes = '';
    b.bytes = '';
    const hosts = ['a.test', 'B.TEST', 'a.test.', 'b.test:8080', 'A.test:8080', 'b.test', '[::1]', 'a.test'];
    const raw = hosts.map((h, i) => `GET /${i} HTTP/1.1\r\nHost: ${h}\r\n\r\n`).join('');
    const text = await exchange(raw, hosts.length);
    // [::1] is no route (404): every other request reached the app its host names, with its authority.
    const apps = [...text.matchAll(/"app":"(\w)","url":"\/(\d)"/g)].map((m) => `${m[2]}:${m[1]}`);
    assert.deepEqual(apps, ['0:a', '1:b', '2:a', '3:b', '4:a', '5:b', '7:a']);
    assert.match(text, /HTTP\/1\.1 404 [^]*no_route/);
    const sent = [...heads(a.bytes), ...heads(b.bytes)].map((h) => /^GET \/(\d) [^]*?\r\nhost: ([^\r]*)\r\n[^]*forwarded: for=127\.0\.0\.1;proto=http;host=([^\r]*)\r\n/.exec(h)!.slice(1).join(' '));
    assert.deepEqual(sent.sort(), ['0 a.test a.test', '1 b.test b.test', '2 a.test a.test', '3 b.test:8080 "b.test:8080"', '4 a.test:8080 "a.test:8080"', '5 b.test b.test', '7 a.test a.test']);
  });

  it('pipelined requests with bodies reach the app framed as the client framed them', async () => {
    a.bytes = '';
    const text = await exchange(
      'GET /1 HTTP/1.1\r\nHost: a.test\r\n\r\n' +
        'POST /2 HTTP/1.1\r\nHost: a.test\r\nContent-Length: 5\r\n\r\nhello' +
        'POST /3 HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n' +
        'GET /4 HTTP/1.1\r\nHost: a.test\r\nConnection: keep-alive, X-Secret\r\nX-Secret: s\r\nKeep-Alive: 5\r\nTE: trailers\r\nUpgrade: h2c\r\n\r\n',
      4,
    );
    assert.deepEqual([...text.matchAll(/"url":"([^"]+)"[^}]*"body":"([^"]*)"/g)].map((m) => `${m[1]}=${m[2]}`), ['/1=', '/2=hello', '/3=abc', '/4=']);
    // No hop-by-hop header (nor one the Connection header names) reaches the app.
    assert.doesNotMatch(a.bytes, /x-secret|keep-alive|\r\nte:|upgrade|\r\nconnection:/i);
    assert.match(a.bytes, /\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET \/4 /);
  });

  it('a head a proxy could read two ways is refused with 400 and never reaches the app', async () => {
    a.bytes = '';
    const refused: Array<[string, string]> = [
      ['CR in a value', 'X-A: a\rb\r\n'],
      ['LF in a value', 'X-A: a\nb\r\n'],
      ['NUL in a value', 'X-A: a\x00b\r\n'],
      ['obs-fold', 'X-A: a\r\n b\r\n'],
      ['space before the colon', 'X-A : a\r\n'],
      ['two Hosts', 'Host: b.test\r\n'],
      ['two Content-Lengths', 'Content-Length: 1\r\nContent-Length: 2\r\n'],
      ['Content-Length and Transfer-Encoding', 'Content-Length: 3\r\nTransfer-Encoding: chunked\r\n'],
      ['Transfer-Encoding: chunked, chunked', 'Transfer-Encoding: chunked, chunked\r\n'],
    ];
    for (const [what, line] of refused) {
      const text = await exchange(`GET /bad HTTP/1.1\r\nHost: a.test\r\n${line}\r\n`);
      assert.match(text, /^HTTP\/1\.1 400 [^]*\r\nconnection: close\r\n/i, what);
    }
    assert.match(await exchange('GET /bad HTTP/1.1\nHost: a.test\n\n'), /^HTTP\/1\.1 400 /, 'bare LF line ends');
    assert.equal(a.bytes, '');
  });

  for (const [what, te] of [
    ['gzip, chunked', 'Transfer-Encoding: gzip, chunked\r\n'],
    ['gzip then chunked on two lines', 'Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n'],
    ['identity', 'Transfer-Encoding: identity\r\n'],
  ] as const) {
    it(`a request body with a transfer coding other than chunked (${what}) is refused with 400, never sent`, async () => {
      a.bytes = '';
      const text = await exchange(`POST /te HTTP/1.1\r\nHost: a.test\r\n${te}\r\n3\r\nabc\r\n0\r\n\r\n`);
      assert.match(text, /^HTTP\/1\.1 400 [^]*\r\nconnection: close\r\n/i);
      assert.match(bodyOf(text), /"code":"bad_request"/);
      assert.match(bodyOf(text), /transfer coding/);
      // Forwarded as `chunked` alone, the app would take the gzip bytes for the body.
      assert.equal(a.bytes, '');
    });
  }

  it('a malformed request pipelined behind others is answered 400 in its turn, never in place of their answers', async () => {
    for (const first of ['', 'GET /0 HTTP/1.1\r\nHost: a.test\r\n\r\n']) {
      a.bytes = '';
      const client = await RawClient.open(port);
      try {
        // The POST (a body: Node's server reads it) reaches the app; the request after it cannot be parsed.
        client.write(`${first}POST /a HTTP/1.1\r\nHost: a.test\r\nContent-Length: 3\r\n\r\nabcGET /b HTTP/1.1\r\nHost: a.test\r\nX-Bad: a\x01b\r\n\r\n`);
        const text = await client.untilClosed();
        const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1]);
        assert.deepEqual(statuses, first === '' ? ['200', '400'] : ['200', '200', '400'], text);
        assert.match(text, /"url":"\/a"[^}]*"body":"abc"[^]*HTTP\/1\.1 400 [^]*"code":"bad_request"/);
        assert.match(a.bytes, /^(GET \/0 [^]*)?POST \/a [^]*\r\n\r\nabc$/);
      } finally {
        client.destroy();
      }
    }
  });

  it('a request whose own body breaks is answered 400 at once: the error is its answer, nothing waits for it', async () => {
    const client = await RawClient.open(port);
    try {
      client.write('POST /broken HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nabc');
      assert.match(await client.untilClosed(), /^HTTP\/1\.1 400 [^]*"code":"bad_request"/);
    } finally {
      client.destroy();
    }
  });

  for (const [what, request] of [
    ['Connection: close', 'POST /last HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\nContent-Length: 3\r\n\r\nabc'],
    ['HTTP/1.0', 'POST /last HTTP/1.0\r\nHost: a.test\r\nContent-Length: 3\r\n\r\nabc'],
  ] as const) {
    it(`bytes after a request that ends the connection (${what}) are ignored: its client gets the app's answer, not a 400`, async () => {
      a.bytes = '';
      const client = await RawClient.open(port);
      try {
        client.write(request + 'GET /after HTTP/1.1\r\nHost: a.test\r\n\r\n');
        const text = await client.untilClosed();
        assert.match(text, /^HTTP\/1\.1 200 /);
        assert.doesNotMatch(text, / 400 /);
        assert.match(bodyOf(text), /"url":"\/last"[^}]*"body":"abc"/);
        assert.doesNotMatch(a.bytes, /\/after/, 'RFC 9112 §9.6: no request after the closing one is processed');
      } finally {
        client.destroy();
      }
    });
  }
});
