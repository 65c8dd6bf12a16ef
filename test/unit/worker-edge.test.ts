import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { WorkerEdge } from '../../src/cluster/worker-edge.js';
import type { EdgeSnapshot } from '../../src/cluster/state-feed.js';
import type { RouteMatch } from '../../src/proxy/route-table.js';
import { makeCa, makeLeaf } from '../support/openssl-certs.js';

type Pair = EdgeSnapshot['certificates'][number];

describe('WorkerEdge: a proxy worker serves the control edge snapshots', () => {
  let dir = '';
  let exact: Pair;
  let wild: Pair;
  let overlapping: Pair;
  const logged: string[] = [];
  const logger = pino({ level: 'error' }, { write: (line: string) => logged.push(line) });

  const pem = async (file: string, names: string[]): Promise<Pair> => {
    const ca = await makeCa(dir, `ca ${file}`);
    const leaf = await makeLeaf(dir, ca, file, names);
    return { names, certPem: await readFile(leaf.cert, 'utf8'), keyPem: await readFile(leaf.key, 'utf8') };
  };
  const snapshot = (certificates: Pair[], extra: Partial<EdgeSnapshot> = {}): EdgeSnapshot => ({ certificates, challenges: [], redirect: false, tlsPort: 8443, ...extra });
  const match = (redirectHttps?: boolean, authority = 'a.example.test:8080'): RouteMatch => ({ app: 'web', route: { host: 'a.example.test', ...(redirectHttps !== undefined ? { redirectHttps } : {}) }, authority }) as unknown as RouteMatch;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-worker-edge-'));
    exact = await pem('exact', ['a.example.test']);
    wild = await pem('wild', ['*.example.test']);
    overlapping = await pem('overlap', ['a.example.test', 'b.example.test']);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('certificates by SNI: exact before wildcard, an earlier pair keeps a shared name, none for a name not covered', () => {
    const edge = new WorkerEdge(logger);
    assert.equal(edge.contextFor('a.example.test'), undefined, 'nothing before the first snapshot');
    edge.apply(snapshot([exact, wild, overlapping]));
    const a = edge.contextFor('A.Example.Test.');
    const z = edge.contextFor('z.example.test');
    const b = edge.contextFor('b.example.test');
    assert.ok(a && z && b);
    assert.notEqual(a, z);
    assert.notEqual(a, b, 'a.example.test stays with the pair that named it first');
    assert.equal(edge.contextFor('x.y.example.test'), undefined, 'a wildcard covers one label');
    assert.equal(edge.contextFor('example.org'), undefined);
  });

  test('a snapshot that only changes challenges makes no secure context again; a dropped pair is gone', () => {
    const edge = new WorkerEdge(logger);
    edge.apply(snapshot([exact, wild]));
    const a = edge.contextFor('a.example.test');
    edge.apply(snapshot([exact, wild], { challenges: [['tok', 'tok.key']] }));
    assert.equal(edge.contextFor('a.example.test'), a, 'the same context object');
    assert.equal(edge.challenge('tok'), 'tok.key');
    assert.equal(edge.challenge('other'), undefined);
    edge.apply(snapshot([wild]));
    assert.notEqual(edge.contextFor('a.example.test'), a, 'now the wildcard serves it');
    assert.equal(edge.challenge('tok'), undefined, 'challenges are replaced whole');
  });

  test('a pair this process cannot load is logged and skipped; the others serve', () => {
    const edge = new WorkerEdge(logger);
    logged.length = 0;
    edge.apply(snapshot([{ ...exact, keyPem: wild.keyPem }, wild]));
    assert.ok(edge.contextFor('a.example.test'), 'the wildcard covers the name instead');
    assert.equal(logged.length, 1);
    assert.match(logged[0]!, /cannot be served/);
  });

  test('redirects: the route decides, else the gateway; the location has the TLS port; HSTS from the routes', () => {
    const cases: Array<{ gatewayWide: boolean; route?: boolean; want: string | undefined }> = [
      { gatewayWide: true, want: 'https://a.example.test:9443/p?q=1' },
      { gatewayWide: true, route: false, want: undefined },
      { gatewayWide: false, want: undefined },
      { gatewayWide: false, route: true, want: 'https://a.example.test:9443/p?q=1' },
    ];
    for (const c of cases) {
      const edge = new WorkerEdge(logger);
      edge.apply(snapshot([], { redirect: c.gatewayWide, tlsPort: 9443 }));
      assert.equal(edge.redirect(match(c.route), '/p?q=1'), c.want, JSON.stringify(c));
    }
    const edge = new WorkerEdge(logger);
    edge.apply(snapshot([], { redirect: true, tlsPort: 443 }));
    assert.equal(edge.redirect(match(undefined, 'a.example.test'), '/'), 'https://a.example.test/', 'no port for 443');
    assert.equal(edge.redirect(match(undefined, ''), '/'), undefined, 'no authority, no redirect');
    edge.setRoutes([{ app: 'web', routes: [], balance: 'round-robin', hsts: { maxAgeS: 60, includeSubDomains: true, preload: false } }, { app: 'plain', routes: [], balance: 'round-robin' }]);
    assert.equal(edge.hsts('web'), 'max-age=60; includeSubDomains');
    assert.equal(edge.hsts('plain'), undefined);
  });
});
