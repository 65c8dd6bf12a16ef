// What the last CLI review left: `berth version` exited 0 with the server down and printed
// "server: berth undefined" for an answer of another shape; an unplanned failure's JSON named
// the code `internal` (exit 6 in the catalogue) beside exit 1; `store copy` died by the default
// signal on Ctrl-C (no word, no 130); `berth help bogus` printed the whole help and never named
// the mistake.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { interruptedLine } from '../../src/cli/commands/store.js';
import { serverVersionOf } from '../../src/cli/commands/version.js';
import { UNEXPECTED_CODE, failureDocument } from '../../src/cli/output.js';
import { ERROR_CATALOGUE, NotFoundError, RuntimeError, StoreError } from '../../src/errors.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { VERSION } from '../../src/version.js';
import { berth, cliEnv, spawnBerth } from '../support/berth-cli.js';
import { waitFor } from '../support/wait-for.js';

const env = cliEnv({ NO_COLOR: '1', HOME: '/nonexistent', BERTH_TOKEN: 'berth_abc' });

/** An HTTP server answering every request with `body` as JSON. */
async function answering(body: unknown): Promise<{ url: string; server: Server }> {
  const server = createHttpServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

/** A URL nobody listens at: a port just bound and let go. */
async function closedUrl(): Promise<string> {
  const { url, server } = await answering({});
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return url;
}

describe('CLI leftovers', { concurrency: true }, () => {
  it('version, server down: the CLI line on stdout, one clear line for the server, exit 6', async () => {
    const url = await closedUrl();
    const text = await berth(['version', '--url', url], env);
    assert.equal(text.code, 6, text.stderr);
    assert.equal(text.stdout, `client: berth ${VERSION} (node ${process.version})\n`);
    assert.match(text.stderr, /^server: unknown: cannot reach the berth API at http:\/\/127\.0\.0\.1:\d+: connection refused/);
    assert.equal(text.stderr.split('\n').filter(Boolean).length, 1, text.stderr);
  });

  it('version -o json, a JSON answer of another shape: no "berth undefined"; the client, no server, the error; exit 6', async (t) => {
    const api = await answering({ hello: 'world' });
    t.after(() => api.server.close());
    const result = await berth(['version', '--url', api.url, '-o', 'json'], env);
    assert.equal(result.code, 6, result.stderr);
    assert.doesNotMatch(result.stdout + result.stderr, /undefined/);
    const doc = JSON.parse(result.stdout) as { client: { version: string }; server: unknown; error: { code: string; exit: number; message: string } };
    assert.equal(doc.client.version, VERSION);
    assert.equal(doc.server, null);
    assert.deepEqual(doc.error, { code: 'runtime_error', exit: 6, message: `${api.url}/v1/version answered no berth version (version, api, node); is --url a berth admin API?` });
  });

  it('serverVersionOf: takes the three strings (made printable), refuses anything else', () => {
    assert.deepEqual(serverVersionOf({ version: '1.2.3\u001b[2J', api: 'v1', node: 'v20' }, 'http://x'), { version: '1.2.3 [2J', api: 'v1', node: 'v20' });
    for (const answer of [null, [], { version: 1, api: 'v1', node: 'v20' }, { version: '1', api: 'v1' }]) {
      assert.throws(() => serverVersionOf(answer, 'http://x'), RuntimeError, JSON.stringify(answer));
    }
  });

  it('a failure document says the exit the process ends with; an unplanned one is exit 1 under a code of its own', () => {
    assert.deepEqual(failureDocument(new TypeError('x is not a function')), { error: { code: UNEXPECTED_CODE, exit: 1, message: 'x is not a function' } });
    assert.ok(!Object.hasOwn(ERROR_CATALOGUE, UNEXPECTED_CODE), 'the unplanned code claims no catalogue entry');
    const known = failureDocument(new NotFoundError('no app web'));
    assert.deepEqual(known.error, { code: 'not_found', exit: ERROR_CATALOGUE.not_found.exit, message: 'no app web' });
    const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');
    assert.match(readme, new RegExp(`\`${UNEXPECTED_CODE}\``), 'the README names the code');
  });

  it('help with a name that is no command: one line naming it, exit 2; help for a known path still prints', async () => {
    const bogus = await berth(['help', 'bogus'], env);
    assert.equal(bogus.code, 2, bogus.stderr);
    assert.equal(bogus.stderr, "berth: unknown command 'bogus' (see 'berth --help')\n");
    assert.equal(bogus.stdout, '');
    const nested = await berth(['help', 'token', 'ls'], env);
    assert.equal(nested.code, 0, nested.stderr);
    assert.match(nested.stdout, /^Usage: berth token ls\|list /);
  });

  it('interruptedLine: before the COMMIT nothing was copied; during it, the outcome is not known', () => {
    assert.match(interruptedLine(false), /^interrupted: nothing was copied/);
    assert.match(interruptedLine(true), /may hold the whole copy or nothing/);
  });

  it('store copy, Ctrl-C while it waits on the target: the "interrupted" line and exit 130', async (t) => {
    // A "PostgreSQL" that accepts and never answers: the copy waits on it for as long as the test likes.
    const sockets = new Set<Socket>();
    const silent: TcpServer = createTcpServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const dir = mkdtempSync(join(tmpdir(), 'berth-copy-int-'));
    t.after(() => {
      for (const socket of sockets) socket.destroy();
      silent.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const from = join(dir, 'berth.db');
    const source = new SqliteStore({ path: from, historyThread: false });
    await source.open();
    await source.close();
    const port = (silent.address() as { port: number }).port;
    const run = spawnBerth(['store', 'copy', '--from', from], { ...env, BERTH_STORE: `postgres://berth@127.0.0.1:${port}/berth` });
    const killer = setTimeout(() => run.child.kill('SIGKILL'), 30_000);
    t.after(() => clearTimeout(killer));
    await waitFor('the copy under way', () => sockets.size > 0 && run.stderr().includes('store copy: copying'), { timeoutMs: 20_000 });
    run.child.kill('SIGINT');
    const result = await run.exited;
    assert.equal(result.code, 130, `${result.signal} ${result.stderr}`);
    assert.ok(result.stderr.endsWith(`store copy: ${interruptedLine(false)}\n`), result.stderr);
    assert.equal(result.stdout, '');
  });
});

describe('store copy from a file that is no berth store', () => {
  it('an empty file is refused before any connection, and left as it was (not made into a new store)', async (t) => {
    const { copySqliteToPostgres } = await import('../../src/store/store-copy.js');
    const dir = mkdtempSync(join(tmpdir(), 'berth-copy-empty-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const from = join(dir, 'berth.db');
    writeFileSync(from, '');
    // Port 1: nothing listens there; the refusal must come before any attempt.
    await assert.rejects(copySqliteToPostgres(from, 'postgres://berth@127.0.0.1:1/berth'), (err: Error) => err instanceof StoreError && /is not a berth store/.test(err.message));
    assert.equal(statSync(from).size, 0);
  });
});
