import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exitCodeOf } from '../../src/errors.js';
import { ApiError, apiErrorOf, asFlagError, brokenStreamError, codeForStatus, transportError } from '../../src/cli/api-errors.js';
import { colourEnabled, paint } from '../../src/cli/colour.js';
import { byteSize, preciseDuration, relativeTime } from '../../src/cli/format.js';
import { loadSaved, normalizeUrl, resolveSettings, saveSettings, settingsFile, tokenProblem } from '../../src/cli/settings.js';
import { ApiClient } from '../../src/cli/client.js';
import { renderTable } from '../../src/cli/table.js';
import { copyTarget } from '../../src/cli/commands/store.js';

test('tables align on visible width, colour or not, with no trailing blanks', () => {
  const p = paint(true);
  const text = renderTable(['NAME', 'STATE', 'X'], [['a', p.green('running'), ''], ['longer-name', 'stopped', 'y']], paint(false));
  assert.equal(text, 'NAME         STATE    X\na            \x1b[32mrunning\x1b[39m\nlonger-name  stopped  y\n');
});

test('colour only on a terminal, never with NO_COLOR or TERM=dumb', () => {
  assert.equal(colourEnabled({ isTTY: true }, {}), true);
  assert.equal(colourEnabled({ isTTY: false }, {}), false);
  assert.equal(colourEnabled({ isTTY: true }, { NO_COLOR: '1' }), false);
  assert.equal(colourEnabled({ isTTY: true }, { TERM: 'dumb' }), false);
});

test('times, durations and sizes read like a terminal tool', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  assert.equal(relativeTime('2026-01-01T11:59:48Z', now), '12s ago');
  assert.equal(relativeTime('2026-01-01T12:04:10Z', now), 'in 4m');
  assert.equal(relativeTime('2025-12-30T13:00:00Z', now), '47h ago');
  assert.equal(relativeTime('2025-12-20T12:00:00Z', now), '12d ago');
  assert.equal(relativeTime(undefined, now), '-');
  assert.equal(relativeTime('2026-01-01T12:00:00.300Z', now), 'now');
  assert.equal(preciseDuration(612.4), '612 ms');
  assert.equal(preciseDuration(1234), '1.2 s');
  assert.equal(preciseDuration(252_000), '4m 12s');
  assert.equal(byteSize(512), '512 B');
  assert.equal(byteSize(1536), '1.5 KiB');
  assert.equal(byteSize(50 * 1024 * 1024), '50 MiB');
});

test('problem answers map to the exit codes: 2 usage/spec, 3 not found, 4 conflict, 5 auth, 6 server', () => {
  const exit = (status: number, code?: string) => exitCodeOf(apiErrorOf(status, JSON.stringify({ status, code, detail: 'x' }), 'hint'));
  assert.equal(exit(400, 'bad_request'), 2);
  assert.equal(exit(422, 'spec_invalid'), 2);
  assert.equal(exit(403, 'policy_denied'), 2);
  assert.equal(exit(401, 'unauthorized'), 5);
  assert.equal(exit(403), 5);
  assert.equal(exit(404, 'not_found'), 3);
  assert.equal(exit(409, 'conflict'), 4);
  assert.equal(exit(500, 'internal'), 6);
  assert.equal(exit(502, 'upstream_unavailable'), 6);
  assert.equal(exit(405, 'method_not_allowed'), 2);
  assert.equal(codeForStatus(503, 'not_found'), 'runtime_error', 'a 5xx stays a server error whatever its code says');
  assert.equal(exitCodeOf(apiErrorOf(502, '<html>bad gateway</html>', 'hint')), 6, 'a non-JSON answer from a proxy in front');
  const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  const unreachable = transportError(new TypeError('fetch failed', { cause: refused }), 'http://h:1');
  assert.equal(exitCodeOf(unreachable), 6);
  assert.match((unreachable as Error).message, /cannot reach the berth API at http:\/\/h:1: connection refused/);
});

test('URLs: host:port is enough, only http(s)', () => {
  assert.equal(normalizeUrl('127.0.0.1:8081'), 'http://127.0.0.1:8081');
  assert.equal(normalizeUrl('https://berth.example.com/admin/'), 'https://berth.example.com/admin');
  assert.throws(() => normalizeUrl('ftp://x'), /only http/);
  // A password in the URL was printed by every error line and saved by configure; berth never sent it.
  for (const secret of ['http://admin:s3cret@127.0.0.1:8081', 'https://s3cret@berth.example.com/admin/']) {
    assert.throws(() => normalizeUrl(secret), (err: Error) => /carries a user name or password/.test(err.message) && !err.message.includes('s3cret'), secret);
  }
  assert.throws(() => normalizeUrl('https://admin:s3cret@berth.example.com/admin/'), { message: /give https:\/\/berth\.example\.com\/admin and the token/ });
  for (const tail of ['http://127.0.0.1:8081/?x=1', 'http://127.0.0.1:8081/#top']) assert.throws(() => normalizeUrl(tail), /must not have a query/, tail);
});

test('settings: flags beat BERTH_URL/BERTH_TOKEN, which beat the saved file, which beats the default', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-cli-'));
  try {
    const env = { XDG_CONFIG_HOME: dir };
    assert.equal(settingsFile(env), join(dir, 'berth', 'config.json'));
    assert.deepEqual(await resolveSettings({}, env), { url: 'http://127.0.0.1:8081', urlSource: 'the default', token: undefined, tokenSource: undefined });
    await saveSettings({ url: 'http://saved:1', token: 'saved' }, settingsFile(env));
    assert.deepEqual(await resolveSettings({}, env), { url: 'http://saved:1', urlSource: settingsFile(env), token: 'saved', tokenSource: settingsFile(env) });
    const withEnv = { ...env, BERTH_URL: 'http://env:2', BERTH_TOKEN: 'env' };
    assert.deepEqual(await resolveSettings({}, withEnv), { url: 'http://env:2', urlSource: 'BERTH_URL', token: 'env', tokenSource: 'BERTH_TOKEN' });
    assert.deepEqual(await resolveSettings({ url: 'flag:3', token: 'flag' }, withEnv), { url: 'http://flag:3', urlSource: '--url', token: 'flag', tokenSource: '--token' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a token no Authorization header can carry is refused naming where it came from (it read "invalid authorization header")', () => {
  const table: Array<[string, string | undefined]> = [
    ['b3rth_Tok-en.~+/=', undefined],
    ['tok\n', 'has a line break at position 4'],
    ['my token', 'has a space at position 3'],
    ['t\x00k', 'has a control character at position 2'],
    ['tökén', 'has a character outside ASCII at position 2'],
  ];
  for (const [token, problem] of table) assert.equal(tokenProblem(token)?.replace(/;.*/, ''), problem, JSON.stringify(token));
  assert.throws(() => new ApiClient({ url: 'http://127.0.0.1:1', token: 'abc\r\n', tokenSource: 'BERTH_TOKEN' }), (err: unknown) => {
    assert.equal(exitCodeOf(err), 2);
    assert.match((err as Error).message, /^the token from BERTH_TOKEN has a line break at position 4/);
    return true;
  });
});

test("the proxy listener's no_route answer, when the CLI was pointed at it, says so (it read 'no app is routed at …/v1/apps')", () => {
  const body = JSON.stringify({ type: 'urn:berth:no_route', title: 'No route', status: 404, code: 'no_route', detail: 'no app is routed at 127.0.0.1:8080/v1/apps' });
  const err = apiErrorOf(404, body, 'token from BERTH_TOKEN', 'http://127.0.0.1:8080');
  assert.match(err.message, /^http:\/\/127\.0\.0\.1:8080 is berth's proxy listener, not its admin API .*point --url or BERTH_URL at the admin listener/);
  assert.equal(exitCodeOf(err), 3, "no_route's exit code, as the catalogue says");
  const html404 = apiErrorOf(404, '<html><body>Not Found</body></html>', 'h', 'http://127.0.0.1:8081');
  assert.match(html404.message, /HTTP 404 from http:\/\/127\.0\.0\.1:8081, not a berth API answer/);
  assert.equal(exitCodeOf(html404), 6, 'an HTML 404 from a web server at the URL is not berth saying "no such app"');
  // The admin API's own 404 keeps its detail and exit code.
  const notFound = apiErrorOf(404, JSON.stringify({ code: 'not_found', detail: 'no app named x', status: 404 }), 'h', 'http://127.0.0.1:8081');
  assert.equal(notFound.message, 'no app named x');
  assert.equal(exitCodeOf(notFound), 3);
});

test('a followed stream that breaks off names the stream and the server, exit 6 (it read "other side closed", exit 1)', () => {
  // Node's HTTP client's words for an answer cut before its end.
  const socket = Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
  const err = brokenStreamError(socket, 'http://127.0.0.1:8081');
  assert.equal((err as Error).message, 'the stream from the berth API at http://127.0.0.1:8081 broke off: connection reset; did the gateway stop?');
  assert.equal(exitCodeOf(err), 6);
  const other = new Error('a bug');
  assert.equal(brokenStreamError(other, 'http://x'), other);
});

test('a bad query parameter the CLI filled from a flag is named as that flag', () => {
  const bad = apiErrorOf(400, JSON.stringify({ code: 'bad_request', detail: 'query parameter since: expected an ISO time or a duration like 15m, got "yesterday"' }), 'hint');
  const named = asFlagError(bad, ['since', 'until']) as ApiError;
  assert.equal(named.message, '--since: expected an ISO time or a duration like 15m, got "yesterday"');
  assert.equal(named.code, 'bad_request');
  assert.equal(asFlagError(bad, ['app']), bad, 'a parameter no flag filled keeps its wording');
  const notFound = apiErrorOf(404, JSON.stringify({ code: 'not_found', detail: 'query parameter since: x' }), 'hint');
  assert.equal(asFlagError(notFound, ['since']), notFound, 'only 400s are about the input');
  const other = new Error('query parameter since: x');
  assert.equal(asFlagError(other, ['since']), other);
});

test('store copy takes its target from BERTH_STORE too, and warns of a password on the command line (ps shows it)', () => {
  const url = 'postgres://berth:s3cr3t@db.example:5432/berth';
  assert.deepEqual(copyTarget(undefined, { BERTH_STORE: url }), { url }, 'from the environment: no warning');
  assert.deepEqual(copyTarget('postgres://berth@db.example/berth', { BERTH_STORE: url }), { url: 'postgres://berth@db.example/berth' }, '--to wins');
  const flagged = copyTarget(url, {});
  assert.equal(flagged.url, url);
  assert.match(flagged.warning ?? '', /password in --to .* \(ps\) .*; give the URL in BERTH_STORE/);
  assert.ok(!flagged.warning!.includes('s3cr3t'), 'the warning never quotes it');
  assert.throws(() => copyTarget(undefined, {}), (err: Error & { code?: string }) => err.code === 'bad_request' && /--to .*, or BERTH_STORE/.test(err.message));
});

test('a malformed settings file is refused without quoting it: what it holds is the token', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-settings-'));
  try {
    const file = join(dir, 'config.json');
    // Hand-edited without quotes, or the token file copied over it: Node's JSON.parse quotes the text around the fault.
    for (const text of ['{"url": "http://x:1", "token": hunter2-s3cr3t}', 'hunter2-s3cr3t\n']) {
      await writeFile(file, text);
      await assert.rejects(loadSaved(file), (err: Error) => {
        assert.match(err.message, /config\.json is not valid settings \(.*\); run 'berth configure' again/);
        assert.ok(!/hunter|s3cr3t/.test(err.message), err.message);
        return true;
      });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
