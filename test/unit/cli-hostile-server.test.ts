// The CLI against servers that are not a working berth: HTML, not HTTP at all,
// JSON of the wrong shape, endless pages, a problem detail with terminal escapes,
// and silence. Each ends with one printable line on stderr and the exit code of
// a server failure (6), never a hang, a stack or the CLI's own exit 1.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { ApiClient } from '../../src/cli/client.js';
import { UnreachableError, transportError } from '../../src/cli/api-errors.js';
import { exitCodeOf } from '../../src/errors.js';

const BIN = fileURLToPath(new URL('../../../bin/berth.js', import.meta.url));

function http(status: string, type: string, body: string): string {
  return `HTTP/1.1 ${status}\r\nContent-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/** A server on 127.0.0.1 that answers each request with `reply` (undefined: never answers). */
async function serve(reply: string | ((n: number) => string) | undefined): Promise<{ url: string; server: Server }> {
  let n = 0;
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.on('data', () => {
      if (reply === undefined) return;
      socket.end(typeof reply === 'string' ? reply : reply(n++));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

function berth(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 30_000, env: { ...process.env, NO_COLOR: '1', BERTH_URL: '', BERTH_TOKEN: '' } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr });
    });
  });
}

const escapes = `nope\n\u001b[2J\u001b[31mred\u202eevil${'x'.repeat(5_000)}`;
const cases: Array<[string, string | ((n: number) => string), number, RegExp]> = [
  ['an HTML page with 200', http('200 OK', 'text/html', '<html><body>login</body></html>'), 6, /something other than JSON; is it a berth admin API/],
  ['an HTML error page', http('502 Bad Gateway', 'text/html', '<html>bad gateway</html>'), 6, /HTTP 502 from .*not a berth API answer/],
  ['not HTTP at all', 'SSH-2.0-OpenSSH_9.2\r\n', 6, /did not answer in HTTP; is it berth's admin listener/],
  ['JSON of the wrong shape', http('200 OK', 'application/json', '[]'), 6, /JSON that is no berth answer \(a list\)/],
  ['an object without apps', http('200 OK', 'application/json', '{"items": []}'), 6, /without a list of apps/],
  // A gateway of another version, or another JSON service: it was JavaScript's "app.routes.map is not a function", exit 1.
  ['apps of another shape', http('200 OK', 'application/json', '{"apps": [{"name": "web", "routes": "/"}]}'), 6, /^berth: the API's answer is not what this berth CLI reads \(.+\); is --url a berth admin API, of this CLI's version \(berth version\)\?$/],
  ['pages that never end', http('200 OK', 'application/json', '{"apps": [], "next": "again"}'), 6, /pages of GET \/v1\/apps do not end/],
  ['the same cursor again', (n) => http('200 OK', 'application/json', JSON.stringify({ apps: [{ name: `a${n}` }], next: 'same' })), 6, /do not end \(after 2 apps\)/],
  ['a problem detail with escapes, newlines and a bidi override', http('404 Not Found', 'application/problem+json', JSON.stringify({ code: 'not_found', detail: escapes })), 3, /^berth: nope \[2J \[31mred evilx+… \(\d+ more characters\)$/],
];

describe('berth against servers that are not a working berth', () => {
  for (const [what, reply, exit, said] of cases) {
    it(`${what}: exit ${exit}, one printable line`, async (t) => {
      const { url, server } = await serve(reply);
      t.after(() => server.close());
      const run = await berth(['ls', '--url', url, '--token', 'berth_abc']);
      assert.equal(run.code, exit, run.stderr);
      assert.equal(run.stdout, '');
      const lines = run.stderr.split('\n');
      assert.equal(lines.length, 2, `one line: ${JSON.stringify(run.stderr.slice(0, 300))}`);
      assert.equal(lines[1], '');
      assert.doesNotMatch(run.stderr, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/, 'nothing the terminal would act on');
      assert.ok(run.stderr.length < 800, `short: ${run.stderr.length} characters`);
      assert.match(lines[0]!, said);
    });
  }

  it('an https:// URL: a plain HTTP listener, or a certificate this host does not trust, is one line and exit 6 (it was OpenSSL\'s words and exit 1)', async (t) => {
    const { url, server } = await serve(http('200 OK', 'application/json', '{"apps": []}'));
    t.after(() => server.close());
    const run = await berth(['ls', '--url', url.replace('http:', 'https:'), '--token', 'berth_abc']);
    assert.equal(run.code, 6, run.stderr);
    assert.match(run.stderr, /^berth: https:\/\/127\.0\.0\.1:\d+ did not complete a TLS handshake \(wrong version number\); if it is a plain HTTP listener, use http:\/\/\n$/);
    // Node's code for a self-signed certificate, as its https client rejects with it.
    const untrusted = transportError(Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), 'https://berth.test');
    assert.ok(untrusted instanceof UnreachableError);
    assert.equal(exitCodeOf(untrusted), 6);
    assert.equal(untrusted.message, "the berth API at https://berth.test is not trusted: its certificate is self-signed (DEPTH_ZERO_SELF_SIGNED_CERT); give its authority's certificate in NODE_EXTRA_CA_CERTS=ca.pem");
  });

  it('a server that never answers a read, or stops half way, is given up on with one line and exit 6 (it waited ten minutes)', async (t) => {
    const silent = await serve(undefined);
    t.after(() => silent.server.close());
    const client = new ApiClient({ url: silent.url, token: 'berth_abc', readTimeoutMs: 300 });
    t.after(() => client.close());
    const err = await client.call('GET', '/v1/apps').then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof UnreachableError, String(err));
    assert.match(err.message, /too slow: no answer in time/);
    assert.equal(exitCodeOf(err), 6);

    const halfWay = await serve(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"apps": [`);
    t.after(() => halfWay.server.close());
    const second = new ApiClient({ url: halfWay.url, token: 'berth_abc', readTimeoutMs: 300 });
    t.after(() => second.close());
    const cut = await second.call('GET', '/v1/apps').then(() => undefined, (e: unknown) => e);
    assert.ok(cut instanceof UnreachableError, String(cut));
    assert.equal(exitCodeOf(cut), 6);
  });
});
