// Values an attacker chose (a request path, an env value of a spec someone else applied, an app's
// last words, a gateway's row in a shared store) reach the operator's terminal through every
// table and summary of the CLI: shown as escapes, never obeyed; long ones cut in tables; -o json
// exact.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { describe, it, test } from 'node:test';
import { printable } from '../../src/cli/api-errors.js';
import { paint } from '../../src/cli/colour.js';
import { resultLines } from '../../src/cli/commands/apply-report.js';
import { healthOf } from '../../src/cli/commands/configure.js';
import { appSummary } from '../../src/cli/commands/get-summary.js';
import { gatewayRows } from '../../src/cli/commands/gateways.js';
import { scaledLine } from '../../src/cli/commands/scale.js';
import { historyTable } from '../../src/cli/commands/history.js';
import { runLifecycle } from '../../src/cli/commands/lifecycle-run.js';
import { appsTable } from '../../src/cli/commands/ls.js';
import { tokensTable } from '../../src/cli/commands/token.js';
import { renderTable } from '../../src/cli/table.js';
import { shownText } from '../../src/cli/terminal-text.js';
import { BERTH_BIN, cliEnv } from '../support/berth-cli.js';

/** Anything a terminal would act on, or not show. */
// eslint-disable-next-line no-control-regex
const ACTED_ON = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]|[\ud800-\udfff]/;

// Clear the screen, set the title, write the clipboard (OSC 52), a link (OSC 8), C1 CSI, a bare CR
// and backspaces that overwrite, a bidi override, a zero-width space, a lone surrogate half.
const HOSTILE = '/a\x1b[2J\x1b]0;pwned\x07\x1b]52;c;ZWNobyBoaQ==\x1b\\\x1b]8;;http://evil\x1b\\x\u009b2J\rFAKE\b\b\u202eevil\u200b\ud800';

function app(extra: Record<string, unknown> = {}): any {
  return {
    name: 'web',
    revision: 1,
    source: 'api',
    createdAt: new Date().toISOString(),
    updatedAt: new Date().toISOString(),
    state: 'failed',
    status: { name: 'web', state: 'failed', since: new Date().toISOString(), inFlight: 0, waiting: 0, reason: `stopped\n${HOSTILE}`, lastError: `exit 1\n${HOSTILE}` },
    routes: [{ path: '/web/', stripPrefix: false, url: `http://127.0.0.1:8080${HOSTILE}` }],
    instances: [{ id: 'i1', name: `berth-web${HOSTILE}`, state: 'running', health: 'none', address: null, startedAt: null }],
    spec: { image: 'app:1', port: 80, env: { GREETING: `hi\u009b2J\u202e` }, scale: { min: 0, max: 1 } },
    ...extra,
  };
}

test('shownText: every control, format character and lone surrogate as its escape; other text kept; cut with … past the most', () => {
  assert.equal(shownText('\x1b[2J\x07\r\n\t\b\x7f'), '\\x1b[2J\\x07\\r\\n\\t\\x08\\x7f');
  assert.equal(shownText('a\u009b2J\u202eb\u200bc\u2066\ufeff\u2028'), 'a\\x9b2J\\u202eb\\u200bc\\u2066\\ufeff\\u2028');
  assert.equal(shownText('x\ud800y\udfffz'), 'x\\ud800y\\udfffz');
  assert.equal(shownText('é ✓ 日本 😀 /a?b=c'), 'é ✓ 日本 😀 /a?b=c');
  assert.equal(shownText('/' + 'p'.repeat(200), 10), '/ppppppppp'.slice(0, 9) + '…');
  // A character outside the BMP counts once and is never cut in half.
  assert.equal(shownText('😀😀😀', 2), '😀…');
  assert.doesNotMatch(shownText(HOSTILE), ACTED_ON);
});

test('printable: zero-width and other invisible characters, and lone surrogate halves, go too (they hid a character in a one-line error)', () => {
  assert.equal(printable('app we\u200bb not\ufeff found\ud800'), 'app we b not found');
});

test('berth get: the app, engine and spec values are shown, not obeyed, one field per line', () => {
  const text = appSummary(app(), paint(false), Date.now());
  assert.doesNotMatch(text, ACTED_ON);
  assert.match(text, /^Env: +GREETING=hi\\x9b2J\\u202e$/m);
  assert.match(text, /^Last error: +exit 1 \/a \[2J \]0;pwned/m);
  assert.match(text, /berth-web\/a\\x1b\[2J/);
  // A forged line: nothing begins with FAKE.
  assert.doesNotMatch(text, /^FAKE/m);
});

test('berth get: a hostile server\'s revision, scale and counts are shown, not obeyed (they were printed raw)', () => {
  const base = app();
  const hostile = app({
    revision: `7${HOSTILE}`,
    spec: { ...base.spec, scale: { min: `0${HOSTILE}`, max: `1${HOSTILE}` } },
    status: { ...base.status, inFlight: `2${HOSTILE}`, waiting: `3${HOSTILE}`, readyInstances: `1${HOSTILE}`, replicas: `1${HOSTILE}` },
  });
  const text = appSummary(hostile, paint(false), Date.now());
  assert.doesNotMatch(text, ACTED_ON);
  assert.match(text, /^Revision: +7\/a\\x1b\[2J/m);
  assert.match(text, /^Scale: +0\/a\\x1b/m);
  assert.doesNotMatch(text, /^FAKE/m);
});

test('berth apply: an app name, a changed path and a value with C1 or bidi characters are shown, not obeyed', () => {
  const lines = resultLines(
    {
      dryRun: true,
      results: [{ name: `web${HOSTILE}`, action: 'updated', revision: 2, changes: [{ path: `env.A${HOSTILE}`, from: 'x', to: `y\u009b2J\u202e` }] }],
    },
    paint(false),
  );
  for (const line of lines) assert.doesNotMatch(line, ACTED_ON);
  assert.match(lines[1]!, /\\u009b2J|\\x9b2J/);
});

const longPath = `/search?q=${'x'.repeat(5_000)}`;
const record = (path: string) => ({ time: new Date().toISOString(), app: 'web', method: 'GET', path, status: 200, durationMs: 3, bytesIn: 0, bytesOut: 10, client: '127.0.0.1', waited: false, gateway: `gw\x1b[8m${HOSTILE}` });

/** A table: nothing the terminal acts on, a header and one line per row, no line of kilobytes. */
function assertTable(table: string, rows: number): void {
  assert.doesNotMatch(table, ACTED_ON);
  const lines = table.trimEnd().split('\n');
  assert.equal(lines.length, 1 + rows, table);
  for (const line of lines) assert.ok(line.length < 1_000, `a line of ${line.length} characters`);
}

test('berth history, ls, token ls, gateways: hostile values shown as escapes, a long path cut with …', () => {
  const p = paint(false);
  const now = Date.now();
  const history = historyTable([record(HOSTILE), record(longPath)], p);
  assertTable(history, 2);
  assert.match(history, /\/a\\x1b\[2J\\x1b\]0;pwned\\x07/);
  assert.match(history, /\/search\?q=x+… /);
  assertTable(appsTable([app({ name: `web${HOSTILE}`, state: `odd${HOSTILE}`, routes: [{ host: `h${HOSTILE}`, path: longPath, stripPrefix: false, url: 'http://x/' }] })], p, now), 1);
  assertTable(tokensTable([{ id: 't1', name: `ci${HOSTILE}`, createdAt: new Date().toISOString(), lastUsedAt: null }], p, now), 1);
  const gateway = { id: `g1${HOSTILE}`, self: true, leader: false, alive: true, proxyAddress: HOSTILE, adminAddress: 'a', version: 'v\r1', lastHeartbeat: new Date().toISOString(), activity: [] };
  assertTable(renderTable(['A', 'B', 'C', 'D', 'E', 'F', 'G'], gatewayRows({ self: 'g1', leader: null, gateways: [gateway] } as never, now), p), 1);
});

test("a failed start's error quotes the app's words on one printable line", async () => {
  const client = { call: async (method: string) => (method === 'GET' ? app({ name: 'bad' }) : { name: 'bad', state: 'failed', since: '', inFlight: 0, waiting: 0, lastError: `died:\n${HOSTILE}` }) };
  const progress = { begin: () => undefined, done: () => undefined, failed: () => undefined };
  const err = await runLifecycle(client as never, 'bad', 'start', progress as never).then(
    () => assert.fail('the start should fail'),
    (e: unknown) => e as Error,
  );
  assert.doesNotMatch(err.message, ACTED_ON);
  assert.match(err.message, /^bad is failed: died: \/a \[2J/);
});

describe('the CLI against a server whose values are hostile', () => {
  const served = { items: [record(HOSTILE)], next: 'c\x1b[2J' };
  let server: Server;
  let url = '';
  it('starts a server', async () => {
    server = createServer((req, res) => {
      const found = req.url === '/v1/apps/web/history';
      res.writeHead(found ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(found ? served : { code: 'not_found', detail: 'no' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });

  it('berth history prints its table and the next-page hint with nothing the terminal acts on; -o json is exact', async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(process.execPath, [BERTH_BIN, ...args, '--url', url, '--token', 'berth_abc'], { timeout: 30_000, env: cliEnv({ NO_COLOR: '1' }) }, (err, stdout, stderr) => {
          resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr });
        });
      });
    const [text, json] = await Promise.all([run(['history', 'web']), run(['history', 'web', '-o', 'json'])]);
    assert.equal(text.code, 0, text.stderr);
    assertTable(text.stdout, 1);
    assert.doesNotMatch(text.stderr, ACTED_ON);
    assert.match(text.stderr, /--cursor c\\x1b\[2J$/m);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), served);
  });

  it('stops the server', () => new Promise<void>((resolve) => server.close(() => resolve())));
});

test("berth configure: a degraded gateway's engine state (the engine's own words) and its version are one printable line", () => {
  const { version, warning } = healthOf('http://x', 503, { status: 'degraded', engine: `down: ${HOSTILE}`, version: `1.0\x1b]0;t\x07`, uptimeS: 1, apps: {} });
  assert.equal(version, '1.0 ]0;t');
  assert.doesNotMatch(warning!, ACTED_ON);
  assert.match(warning!, /^warning: the gateway answers but is degraded: engine down: \/a \[2J/);
  assert.deepEqual(healthOf('http://x', 200, { status: 'ok', version: '1.0', uptimeS: 1, apps: {} }), { version: '1.0' });
});

test('printable: long text is cut between characters, never between the halves of one', () => {
  const cut = printable(`${'x'.repeat(499)}😀😀tail`);
  assert.equal(cut, `${'x'.repeat(499)}😀… (5 more characters)`);
  // With the u flag a whole pair is one character: only a lone half matches.
  assert.doesNotMatch(cut, /\p{Cs}/u);
});

test('berth scale: the state and counts a server answers are shown escaped, a fallback where missing', () => {
  assert.equal(scaledLine({ state: 'running', replicas: 3, readyInstances: 2 }, 3), '2 of 3 instances ready (running)');
  assert.equal(scaledLine({}, 2), '? of 2 instances ready (?)');
  const line = scaledLine({ state: 'running\u001b]52;c;ZXZpbA==\u0007\rok', replicas: '3\u009b2J', readyInstances: 1 }, 3);
  assert.doesNotMatch(line, /[\u0000-\u001f\u007f-\u009f]/, line);
  assert.match(line, /\\x1b\]52/);
});
