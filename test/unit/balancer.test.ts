import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { createBalancerPolicy, type BalancerPolicy, type Candidate } from '../../src/proxy/balancer/balancer-policy.js';
import { CookieSticky, readCookie } from '../../src/proxy/balancer/cookie.js';
import { LeastConnections } from '../../src/proxy/balancer/least-connections.js';
import { RandomOfTwo } from '../../src/proxy/balancer/random-two.js';
import { RoundRobin } from '../../src/proxy/balancer/round-robin.js';

const noCookie = { headers: {} } as IncomingMessage;
const withCookie = (cookie: string) => ({ headers: { cookie } }) as IncomingMessage;

/** A docker-like 64-hex id whose first 12 characters differ per instance. */
function candidate(n: number, inFlight = 0, available = true): Candidate {
  const instanceId = `${String(n).padStart(12, 'a')}${'f'.repeat(52)}`;
  const port = 9000 + n;
  // Not a literal at the typed position, so it fits Upstream with or without the proxy's own counters.
  const upstream = { app: 'hello', instanceId, origin: `http://127.0.0.1:${port}`, host: '127.0.0.1', port, inFlight: 0, failures: 0 };
  return { upstream, inFlight, available };
}

/** How many of `rounds` selections each candidate got, by index. */
function tally(policy: BalancerPolicy, candidates: readonly Candidate[], rounds: number, req = noCookie): number[] {
  const counts = candidates.map(() => 0);
  for (let i = 0; i < rounds; i++) {
    const selection = policy.select(candidates, req);
    assert.ok(selection, 'a candidate was chosen');
    counts[candidates.indexOf(selection.candidate)]! += 1;
  }
  return counts;
}

/** Mulberry32: a tiny seeded generator so random-two's distribution test is repeatable. */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const allPolicies = (): BalancerPolicy[] => [new RoundRobin(), new LeastConnections(), new RandomOfTwo(), new CookieSticky('hello')];

test('createBalancerPolicy builds the named policy', () => {
  for (const name of ['least-connections', 'round-robin', 'random-two', 'cookie'] as const) {
    assert.equal(createBalancerPolicy(name, 'hello').name, name);
  }
  assert.throws(() => createBalancerPolicy('ip-hash' as never, 'hello'), TypeError);
});

test('every policy answers undefined when no candidate is available', () => {
  for (const policy of allPolicies()) {
    assert.equal(policy.select([], noCookie), undefined, policy.name);
    assert.equal(policy.select([candidate(1, 0, false), candidate(2, 0, false)], noCookie), undefined, policy.name);
  }
});

test('every policy chooses only available candidates', () => {
  const candidates = [candidate(1, 0, false), candidate(2, 5), candidate(3, 0, false), candidate(4, 9), candidate(5, 0, false)];
  for (const policy of allPolicies()) {
    const counts = tally(policy, candidates, 300);
    assert.equal(counts[0]! + counts[2]! + counts[4]!, 0, policy.name);
  }
});

test('every policy takes the only available candidate', () => {
  const candidates = [candidate(1, 0, false), candidate(2, 100), candidate(3, 0, false)];
  for (const policy of allPolicies()) assert.deepEqual(tally(policy, candidates, 10), [0, 10, 0], policy.name);
});

test('round-robin gives three instances exactly equal shares, in order', () => {
  const candidates = [candidate(1), candidate(2, 50), candidate(3)];
  const policy: BalancerPolicy = new RoundRobin();
  const order = Array.from({ length: 6 }, () => candidates.indexOf(policy.select(candidates, noCookie)!.candidate));
  assert.deepEqual(order, [0, 1, 2, 0, 1, 2]);
  assert.deepEqual(tally(policy, candidates, 3000), [1000, 1000, 1000]);
});

test('round-robin skips an unavailable instance and keeps the others equal', () => {
  const candidates = [candidate(1), candidate(2, 0, false), candidate(3), candidate(4)];
  assert.deepEqual(tally(new RoundRobin(), candidates, 300), [100, 0, 100, 100]);
});

test('round-robin keeps rotating as instances are added and removed', () => {
  const policy: BalancerPolicy = new RoundRobin();
  const [a, b, c, d] = [candidate(1), candidate(2), candidate(3), candidate(4)];
  const pick = (list: Candidate[]) => policy.select(list, noCookie)!.candidate;
  assert.equal(pick([a!, b!, c!]), a);
  assert.equal(pick([a!, b!, c!]), b);
  // A new instance joins at the end: the turn goes on to c, then to the newcomer.
  assert.equal(pick([a!, b!, c!, d!]), c);
  assert.equal(pick([a!, b!, c!, d!]), d);
  // The list shrinks below the position: it wraps instead of getting stuck.
  assert.equal(pick([a!, b!]), a);
  assert.equal(pick([a!, b!]), b);
  // After churn the shares are still equal.
  assert.deepEqual(tally(policy, [a!, c!, d!], 300), [100, 100, 100]);
});

test('least-connections picks the least loaded available instance', () => {
  const candidates = [candidate(1, 4), candidate(2, 1), candidate(3, 7), candidate(4, 0, false)];
  assert.deepEqual(tally(new LeastConnections(), candidates, 50), [0, 50, 0, 0]);
});

test('least-connections spreads ties evenly instead of favouring the first', () => {
  const idle = [candidate(1), candidate(2), candidate(3)];
  assert.deepEqual(tally(new LeastConnections(), idle, 3000), [1000, 1000, 1000]);
  // Two tied below a busier one: the tie alternates, the busy one gets nothing.
  const twoTied = [candidate(1, 2), candidate(2, 2), candidate(3, 5)];
  assert.deepEqual(tally(new LeastConnections(), twoTied, 1000), [500, 500, 0]);
  const tiedAroundBusy = [candidate(1, 0), candidate(2, 3), candidate(3, 0)];
  assert.deepEqual(tally(new LeastConnections(), tiedAroundBusy, 1000), [500, 0, 500]);
});

test('least-connections follows load as it changes, as a proxy counting in-flight requests would', () => {
  const candidates = [candidate(1), candidate(2), candidate(3)];
  const policy: BalancerPolicy = new LeastConnections();
  // Requests that never finish: each lands on the least loaded, so loads stay level.
  for (let i = 0; i < 30; i++) policy.select(candidates, noCookie)!.candidate.inFlight++;
  assert.deepEqual(candidates.map((c) => c.inFlight), [10, 10, 10]);
});

test('random-two never picks the strictly most loaded of three', () => {
  const candidates = [candidate(1), candidate(2), candidate(3, 5)];
  const counts = tally(new RandomOfTwo(), candidates, 3000);
  assert.equal(counts[2], 0);
});

test('random-two picks the less loaded of two, whichever order they are drawn in', () => {
  const candidates = [candidate(1, 3), candidate(2, 1)];
  assert.deepEqual(tally(new RandomOfTwo(), candidates, 200), [0, 200]);
});

test('random-two spreads load over equal instances', () => {
  const idle = [candidate(1), candidate(2), candidate(3), candidate(4)];
  const counts = tally(new RandomOfTwo(seeded(42)), idle, 4000);
  for (const count of counts) assert.ok(count > 850 && count < 1150, `counts ${counts.join(',')}`);
  // The two idle ones share what the busy one does not get.
  const split = tally(new RandomOfTwo(seeded(7)), [candidate(1), candidate(2, 9), candidate(3)], 3000);
  assert.equal(split[1], 0);
  assert.ok(Math.abs(split[0]! - split[2]!) < 300, `counts ${split.join(',')}`);
});

test('random-two tolerates a generator that returns the top of its range', () => {
  const candidates = [candidate(1), candidate(2), candidate(3)];
  const policy: BalancerPolicy = new RandomOfTwo(() => 0.9999999999999999);
  const selection = policy.select(candidates, noCookie);
  assert.ok(selection);
});

test('cookie: a new client is placed by least connections and pinned with a cookie', () => {
  const candidates = [candidate(1, 3), candidate(2, 1), candidate(3, 2)];
  const selection = new CookieSticky('hello').select(candidates, noCookie)!;
  assert.equal(selection.candidate, candidates[1]);
  assert.equal(selection.setCookie, `berth_hello=${candidates[1]!.upstream.instanceId.slice(0, 12)}; Path=/; HttpOnly; SameSite=Lax`);
});

test('cookie: a pinned client stays on its instance while it is available, and no cookie is resent', () => {
  const candidates = [candidate(1), candidate(2), candidate(3)];
  const policy = new CookieSticky('hello');
  const first = policy.select(candidates, noCookie)!;
  const cookie = first.setCookie!.split(';')[0]!;
  for (let i = 0; i < 50; i++) {
    // Load elsewhere changes; the pin does not.
    candidates[i % 3]!.inFlight = i;
    const again = policy.select(candidates, withCookie(`theme=dark; ${cookie}; other=1`))!;
    assert.equal(again.candidate, first.candidate);
    assert.equal(again.setCookie, undefined);
  }
});

test('cookie: a client whose instance went away or is draining is re-pinned', () => {
  const candidates = [candidate(1), candidate(2, 4), candidate(3, 1)];
  const policy = new CookieSticky('hello');
  const pinnedTo1 = withCookie(`berth_hello=${candidates[0]!.upstream.instanceId.slice(0, 12)}`);

  const draining = [{ ...candidates[0]!, available: false }, candidates[1]!, candidates[2]!];
  const moved = policy.select(draining, pinnedTo1)!;
  assert.equal(moved.candidate, candidates[2]);
  assert.match(moved.setCookie!, new RegExp(`^berth_hello=${candidates[2]!.upstream.instanceId.slice(0, 12)};`));

  const gone = [candidates[1]!, candidates[2]!];
  assert.equal(policy.select(gone, pinnedTo1)!.candidate, candidates[2]);
  assert.ok(policy.select(gone, pinnedTo1)!.setCookie);
});

test('cookie: malformed, foreign or other apps\' cookies are ignored and the client is pinned afresh', () => {
  const candidates = [candidate(1), candidate(2)];
  const id = candidates[1]!.upstream.instanceId.slice(0, 12);
  const policy = new CookieSticky('hello');
  for (const header of [
    '',
    ';;;',
    'berth_hello',
    'berth_hello=',
    'berth_hello=nonsense',
    `berth_hello=${id}x`,
    `berth_hello=${id.slice(0, 11)}`,
    `berth_hello=${candidates[1]!.upstream.instanceId}`,
    `berth_other=${id}`,
    `xberth_hello=${id}`,
    `a=berth_hello=${id}`,
    '=====; ; =',
    'berth_hello=%00%0d%0a',
  ]) {
    const selection = policy.select(candidates, withCookie(header));
    assert.ok(selection?.setCookie, `header ${JSON.stringify(header)} re-pins`);
  }
});

test('cookie: the header is read with spaces, quotes and other cookies around it', () => {
  const candidates = [candidate(1), candidate(2), candidate(3)];
  const id = candidates[2]!.upstream.instanceId.slice(0, 12);
  const policy = new CookieSticky('hello');
  for (const header of [
    `berth_hello=${id}`,
    `  berth_hello = ${id}  `,
    `a=1;berth_hello=${id};b=2`,
    `a=1;   berth_hello="${id}"; b=2`,
    `berth_hello2=zzz; a=berth_hello; berth_hello=${id}`,
  ]) {
    const selection = policy.select(candidates, withCookie(header))!;
    assert.equal(selection.candidate, candidates[2], header);
    assert.equal(selection.setCookie, undefined, header);
  }
});

test('cookie: the cookie name is a safe token made from the app name', () => {
  assert.equal(new CookieSticky('hello-world').cookieName, 'berth_hello-world');
  assert.equal(new CookieSticky('we ird;=app').cookieName, 'berth_we_ird__app');
});

test('cookie: an instance id that cannot be a cookie value is served but not pinned', () => {
  const odd: Candidate = { ...candidate(1), upstream: { ...candidate(1).upstream, instanceId: 'bad id;\r\nx' } };
  const selection = new CookieSticky('hello').select([odd], noCookie)!;
  assert.equal(selection.candidate, odd);
  assert.equal(selection.setCookie, undefined);
});

test('readCookie finds only the named cookie', () => {
  assert.equal(readCookie('a=1; b=2', 'b'), '2');
  assert.equal(readCookie('a=1; b=2', 'c'), undefined);
  assert.equal(readCookie('ab=1; b=2', 'b'), '2');
  assert.equal(readCookie('b=1; b=2', 'b'), '1');
  assert.equal(readCookie('b', 'b'), undefined);
  assert.equal(readCookie('b=', 'b'), '');
});
