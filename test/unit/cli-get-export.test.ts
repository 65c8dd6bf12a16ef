// The kubectl habit: `berth get web --export > web.yaml`, edit, `berth apply -f web.yaml`. `-o yaml`
// printed the API's view (state, instances, the spec in berth's internal form: startTimeoutMs…), which
// apply refuses field by field. --export prints the berth/v1 document; applied back unedited, it is
// "unchanged". The fake API keeps one app and answers a dry-run apply with the real spec parser.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { SpecError } from '../../src/errors.js';
import { redactSpec } from '../../src/spec/env-value.js';
import { specHash } from '../../src/spec/hash.js';
import { parseSpecText } from '../../src/spec/parse.js';
import type { AppSpec } from '../../src/spec/types.js';
import { berth, cliEnv, errorLine } from '../support/berth-cli.js';

const SECRET = 'hunter2-not-for-eyes';
const WEB = `apiVersion: berth/v1
name: web
image: registry.example.com/team/web:1.2
port: 8080
routes: [{path: /web/, stripPrefix: true}, {host: web.example.com}]
env: {GREETING: hello, PASSWORD: {secret: ${SECRET}}, TOKEN: {fromFile: /run/secrets/token}}
readiness: {path: /healthz}
scale: {min: 1, max: 3}
idleTimeout: 90s
startTimeout: 1500ms
resources: {memory: 512m, cpus: 0.5}
health: {path: /healthz, interval: 5m}
`;

let server: Server;
let dir: string;
let env: NodeJS.ProcessEnv;
/** What GET /v1/apps/web shows as the spec: the stored one, redacted, plus `extra` fields. */
let stored: AppSpec;
let extra: Record<string, unknown> = {};
/** When set, the whole spec GET shows instead (a broken or hostile server). */
let shownSpec: unknown;

function view(spec: AppSpec): unknown {
  const now = new Date().toISOString();
  return {
    name: spec.name, revision: 1, source: 'api', createdAt: now, updatedAt: now, state: 'stopped',
    status: { name: spec.name, state: 'stopped', since: now, inFlight: 0, waiting: 0 },
    routes: spec.routes.map((r) => ({ ...r, url: 'http://127.0.0.1:8080/web/' })), instances: [],
    spec: shownSpec !== undefined ? shownSpec : { ...redactSpec(spec), ...extra },
  };
}

/** As the gateway answers POST /v1/apps?dryRun=true: the real parser, compared by spec hash. */
function dryRunApply(body: string): [number, unknown] {
  try {
    const [spec] = parseSpecText(body, 'body');
    return [200, { dryRun: true, results: [{ name: spec!.name, action: specHash(spec!) === specHash(stored) ? 'unchanged' : 'updated', revision: 1, changes: [] }] }];
  } catch (err) {
    if (!(err instanceof SpecError)) throw err;
    return [422, { type: 'about:blank', title: 'Unprocessable spec', status: 422, code: 'spec_invalid', detail: err.message, problems: err.problems }];
  }
}

before(async () => {
  stored = parseSpecText(WEB, 'web.yaml')[0]!;
  dir = await mkdtemp(join(tmpdir(), 'berth-export-'));
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      const [status, answer] =
        req.method === 'GET' && req.url === '/v1/apps/web' ? [200, view(stored)]
        : req.method === 'POST' && req.url === '/v1/apps?dryRun=true' ? dryRunApply(body)
        : [404, { type: 'about:blank', title: 'Not found', status: 404, code: 'not_found', detail: `no ${req.method} ${req.url}` }];
      res.writeHead(status, { 'content-type': status === 200 ? 'application/json' : 'application/problem+json' }).end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  env = cliEnv({ BERTH_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, BERTH_TOKEN: 'berth_x', XDG_CONFIG_HOME: join(dir, 'xdg') });
});

after(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

/** `berth get web --export [-o json]` into a file, the marker replaced by the secret (as the user must). */
async function exportTo(file: string, args: string[]): Promise<{ text: string; stderr: string }> {
  const got = await berth(['get', 'web', '--export', ...args], env);
  assert.equal(got.code, 0, got.stderr);
  assert.ok(!got.stdout.includes(SECRET) && !got.stderr.includes(SECRET), 'the secret never leaves the gateway');
  await writeFile(join(dir, file), got.stdout);
  return { text: got.stdout, stderr: got.stderr };
}

test('get --export, written to a file, is refused by apply only for the secret it cannot show; written in, the app is unchanged', async () => {
  const { text, stderr } = await exportTo('web.yaml', []);
  assert.match(text, /^# Secrets are not shown: write the value of env\.PASSWORD in place of "<redacted>" before applying\.\napiVersion: berth\/v1\nname: web\n/);
  assert.match(stderr, /^env\.PASSWORD is a secret the API does not show/m);
  assert.match(text, /^idleTimeout: 90s$/m);
  assert.match(text, /^startTimeout: 1500ms$/m);
  assert.match(text, /^ {2}memory: 512m$/m);
  assert.deepEqual(parseYaml(text).env.TOKEN, { fromFile: '/run/secrets/token' });

  const refused = await berth(['apply', '-f', join(dir, 'web.yaml'), '--dry-run'], env);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(errorLine(refused), /env\.PASSWORD\.secret: is "<redacted>"/);

  await writeFile(join(dir, 'web.yaml'), text.replaceAll('<redacted>', SECRET));
  const applied = await berth(['apply', '-f', join(dir, 'web.yaml'), '--dry-run'], env);
  assert.equal(applied.code, 0, applied.stderr);
  assert.equal(applied.stdout, 'web unchanged (revision 1)\n');
});

test('get --export -o json is the same document in JSON, applied back unchanged', async () => {
  const { text } = await exportTo('web.json', ['-o', 'json']);
  const doc = JSON.parse(text) as Record<string, unknown>;
  assert.equal(Object.keys(doc)[0], 'apiVersion');
  await writeFile(join(dir, 'web.json'), text.replaceAll('<redacted>', SECRET));
  const applied = await berth(['apply', '-f', join(dir, 'web.json'), '--dry-run'], env);
  assert.equal(applied.stdout, 'web unchanged (revision 1)\n', applied.stderr);
  assert.deepEqual(JSON.parse(await readFile(join(dir, 'web.json'), 'utf8')), { ...doc, env: { ...(doc.env as object), PASSWORD: { secret: SECRET } } });
});

// Applied back, the view got an "unknown field" for each of its nine fields and no word of what to do.
test('get -o yaml still prints the API view of the app, as scripts read it; applied, it is refused pointing at --export', async () => {
  const got = await berth(['get', 'web', '-o', 'yaml'], env);
  assert.equal(got.code, 0, got.stderr);
  const view = parseYaml(got.stdout);
  assert.equal(view.revision, 1);
  assert.equal(view.spec.startTimeoutMs, 1500);
  await writeFile(join(dir, 'view.yaml'), got.stdout);
  const refused = await berth(['apply', '-f', join(dir, 'view.yaml'), '--dry-run'], env);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(errorLine(refused), /view\.yaml: spec: this is the app as `berth get -o yaml\|json` shows it .*: `berth get web --export` prints the spec as a berth\/v1 document \(line \d+\)$/);
});

test('a field of a newer gateway this CLI cannot write: refused, not dropped from the export', async () => {
  extra = { sidecars: [{ image: 'x' }] };
  try {
    const got = await berth(['get', 'web', '--export'], env);
    assert.equal(got.code, 6, got.stderr);
    assert.equal(got.stdout, '');
    assert.match(errorLine(got), /cannot export web: the gateway's spec has "sidecars", which this berth CLI does not know/);
  } finally {
    extra = {};
  }
});

test('a spec that is no spec (a broken server): one line and exit 6, nothing printed', async () => {
  for (const broken of [null, [], 'web', { name: 'web', env: null }]) {
    shownSpec = broken;
    try {
      const got = await berth(['get', 'web', '--export'], env);
      assert.equal(got.code, 6, `${JSON.stringify(broken)}: ${got.stderr}`);
      assert.equal(got.stdout, '');
      assert.match(errorLine(got), /^berth: cannot export web: /);
    } finally {
      shownSpec = undefined;
    }
  }
});
